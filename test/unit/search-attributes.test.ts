// Pallet's search attributes without a server: the pairs a start sets, the `runs` query with
// --definition, the check of what the namespace has (asked once, errors count as "no"), and
// the Web UI link to a run's timeline.
import assert from 'node:assert/strict';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { Client, Connection } from '@temporalio/client';
import { searchAttributePairs, searchAttributesFor, type PalletClient } from '../../src/client';
import { runsQuery } from '../../src/cli/runs';
import { PalletSearchAttributes } from '../../src/contract';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';

const KEYWORD = Number(encodeSearchAttributeIndexedValueType('KEYWORD'));
const TEXT = Number(encodeSearchAttributeIndexedValueType('TEXT'));
const ALL = Object.fromEntries(Object.values(PalletSearchAttributes).map((k) => [k.name, KEYWORD]));

/** Services whose Temporal connection answers listSearchAttributes with `answer`, counting the calls. */
function servicesAnswering(answer: () => Promise<{ customAttributes: Record<string, number | undefined> }>) {
  const services = new Services(loadSettings({ TEMPORAL_NAMESPACE: 'ns1' }));
  const asked: string[] = [];
  const connection = {
    operatorService: {
      listSearchAttributes: (req: { namespace: string }) => {
        asked.push(req.namespace);
        return answer();
      },
    },
  } as unknown as Connection;
  services.temporal = () => Promise.resolve({ client: {} as Client, connection });
  return { services, asked };
}

describe('search attributes', () => {
  it('a start sets the known values of what ran, and the status', () => {
    assert.deepEqual(
      searchAttributePairs({ definitionId: 'a-v1', version: '1.0.0', digest: 'sha256:ab' }, 'loading').map((p) => [p.key.name, p.value]),
      [
        ['PalletDefinitionId', 'a-v1'],
        ['PalletDefinitionVersion', '1.0.0'],
        ['PalletDefinitionDigest', 'sha256:ab'],
        ['PalletStatus', 'loading'],
      ],
    );
    const pairs = searchAttributePairs({ definitionId: 'x'.repeat(300) }, 'loading');
    assert.deepEqual(
      pairs.map((p) => p.key.name),
      ['PalletDefinitionId', 'PalletStatus'],
    );
    assert.equal((pairs[0].value as string).length, 200);
  });

  it('the namespace has them only when all four are Keyword; asked once; an error counts as no', async () => {
    const all = servicesAnswering(() => Promise.resolve({ customAttributes: { ...ALL, Other: TEXT } }));
    assert.equal(await all.services.searchAttributesRegistered(), true);
    assert.equal(await all.services.searchAttributesRegistered(), true);
    assert.deepEqual(all.asked, ['ns1']);
    const pc = { services: all.services, client: {} } as unknown as PalletClient;
    assert.deepEqual(
      (await searchAttributesFor(pc, { definitionId: 'a-v1' }))?.map((p) => p.key.name),
      ['PalletDefinitionId', 'PalletStatus'],
    );

    const missing = servicesAnswering(() => Promise.resolve({ customAttributes: { ...ALL, PalletStatus: undefined } }));
    assert.equal(await missing.services.searchAttributesRegistered(), false);
    assert.equal(await searchAttributesFor({ services: missing.services, client: {} } as unknown as PalletClient, { definitionId: 'a-v1' }), undefined);
    const wrongType = servicesAnswering(() => Promise.resolve({ customAttributes: { ...ALL, PalletStatus: TEXT } }));
    assert.equal(await wrongType.services.searchAttributesRegistered(), false);
    const refused = servicesAnswering(() => Promise.reject(new Error('PermissionDenied')));
    assert.equal(await refused.services.searchAttributesRegistered(), false);
  });

  it('runs --definition queries PalletDefinitionId, quoting the id', () => {
    assert.equal(runsQuery(undefined, 'code-generation-v1'), "WorkflowType = 'palletWorkflow' AND PalletDefinitionId = 'code-generation-v1'");
    assert.equal(runsQuery('failed', 'a-v1'), "WorkflowType = 'palletWorkflow' AND (ExecutionStatus = 'Failed') AND PalletDefinitionId = 'a-v1'");
    assert.equal(runsQuery(undefined, "it's\\"), "WorkflowType = 'palletWorkflow' AND PalletDefinitionId = 'it\\'s\\\\'");
    assert.equal(runsQuery(), "WorkflowType = 'palletWorkflow'");
  });

  it("a run's Web UI link opens its timeline", () => {
    const services = new Services(loadSettings({ TEMPORAL_UI_URL: 'http://ui:8233/', TEMPORAL_NAMESPACE: 'my ns' }));
    assert.equal(services.runUrl('wf/1', 'run-1'), 'http://ui:8233/namespaces/my%20ns/workflows/wf%2F1/run-1/timeline');
    assert.equal(services.runUrl('wf'), 'http://ui:8233/namespaces/my%20ns/workflows/wf');
  });
});
