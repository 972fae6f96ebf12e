// Pallet's search attributes on real dev servers: on one that registers them (as `npm start`'s
// does), a run started by the client carries its definition's id, version and digest and a
// final PalletStatus, so do its execute_workflow children, `pallet runs --definition` finds
// it by the search attribute, and its history (two upserts, one patch marker) replays. On the
// shared dev server, which does not have them, runs start and complete without them and
// `runs --definition` falls back to the memo.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { connectClient, resolveTarget, searchAttributesFor, startRun, type PalletClient } from '../../src/client';
import { PalletSearchAttributes } from '../../src/contract';
import { replayHistory } from '../../src/replay';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { PALLET_SEARCH_ATTRIBUTES } from '../../src/workflows/patches';
import { gate, SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { TEMPORAL_CLI, temporalEnv, workflowBundle } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';

const PARENT = `
metadata: { id: sa-parent-v1, name: SA Parent, version: "2.0.1" }
steps:
  - { id: first, skill: echo, inputs: { word: "{{ workflow.input.word }}" } }
  - { id: sub, skill: execute_workflow, inputs: { workflow_id: sa-child-v1, input: { word: "{{ steps.first.outputs.word }}" } } }
`;
const CHILD = `
metadata: { id: sa-child-v1, name: SA Child, version: "0.3.0" }
steps:
  - { id: shout, skill: echo, inputs: { word: "{{ workflow.input.word }}!" } }
`;
const HOLDS = `
metadata: { id: sa-holds-v1, name: SA Holds, version: "1.0.0" }
steps:
  - { id: wait_here, skill: hold, inputs: {} }
`;
const FAILS = `
metadata: { id: sa-fails-v1, name: SA Fails, version: "1.0.0" }
steps:
  - { id: boom, skill: boom, inputs: {} }
`;

interface RunRow {
  workflow_id: string;
  status: string;
  pallet_status: string | null;
  definition_id: string | null;
  definition_digest: string | null;
}

/** A worker on `env` serving a fresh task queue, with the test's definitions folder and agent. */
async function pallet(env: TestWorkflowEnvironment, dir: string, agent: TestAgent) {
  const taskQueue = uniqueId('sa');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000), definitions: new DirectoryStore(dir) }),
  });
  const cliEnv = { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue, PALLET_WORKFLOWS_DIR: dir, PALLET_REGISTRY_DISCOVERY: 'false' };
  const services = new Services(loadSettings(cliEnv));
  const pc: PalletClient = await connectClient(services);
  return { worker, pc, services, cliEnv };
}

/** Runs `pallet runs ... --json` until `want` holds (visibility is indexed asynchronously). */
async function runsUntil(cliEnv: Record<string, string>, args: string[], want: (rows: RunRow[]) => boolean): Promise<RunRow[]> {
  const end = Date.now() + 30_000;
  for (;;) {
    const res = await runCli(['runs', '--json', ...args], { env: cliEnv });
    assert.equal(res.code, 0, res.stderr);
    const rows = JSON.parse(res.stdout) as RunRow[];
    if (want(rows)) return rows;
    if (Date.now() > end) assert.fail(`pallet runs ${args.join(' ')} never showed what was expected: ${res.stdout}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The ids of the patch markers in a history (one marker per patch a run took). */
function patchMarkers(
  events: { markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null }[],
): string[] {
  return events
    .map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data)
    .filter((data): data is Uint8Array => !!data)
    .map((data) => (JSON.parse(Buffer.from(data).toString()) as { id: string }).id);
}

/** The Pallet attributes each upsert event of a history sets (the SDK's own TemporalChangeVersion ones left out). */
function palletUpserts(
  events: { upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes?: { indexedFields?: Record<string, unknown> | null } | null } | null }[],
): string[][] {
  return events
    .map((e) =>
      Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {})
        .filter((k) => k.startsWith('Pallet'))
        .sort(),
    )
    .filter((keys) => keys.length > 0);
}

async function attributes(handle: WorkflowHandle) {
  const { typedSearchAttributes } = await handle.describe();
  return {
    id: typedSearchAttributes.get(PalletSearchAttributes.definitionId),
    version: typedSearchAttributes.get(PalletSearchAttributes.definitionVersion),
    digest: typedSearchAttributes.get(PalletSearchAttributes.definitionDigest),
    status: typedSearchAttributes.get(PalletSearchAttributes.status),
  };
}

describe('search attributes: runs findable by what they ran', function () {
  this.timeout(180_000);
  let agent: TestAgent;
  let dir: string;
  const held = gate<{ released: boolean }>();

  before(async () => {
    agent = await startTestAgent('sa-agent', {
      echo: (p) => ({ word: p.word }),
      boom: () => {
        throw new SkillError('boom');
      },
      hold: () => held.promise,
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-sa-'));
    await writeFile(path.join(dir, 'sa-parent.yaml'), PARENT);
    await writeFile(path.join(dir, 'sa-child.yaml'), CHILD);
    await writeFile(path.join(dir, 'sa-fails.yaml'), FAILS);
    await writeFile(path.join(dir, 'sa-holds.yaml'), HOLDS);
  });

  after(async () => {
    held.open({ released: true });
    await agent.close();
  });

  describe('on a server that registers them (as npm start does)', () => {
    let env: TestWorkflowEnvironment;

    before(async function () {
      this.timeout(60_000);
      env = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: TEMPORAL_CLI },
          ip: '127.0.0.1',
          searchAttributes: Object.values(PalletSearchAttributes),
          extraArgs: ['--log-level', 'error'],
        },
      });
    });

    after(async function () {
      this.timeout(30_000);
      await env?.teardown();
    });

    it('sets id, version, digest and the final PalletStatus on the run and its child; `runs --definition` finds it; it replays', async () => {
      const { worker, pc, services, cliEnv } = await pallet(env, dir, agent);
      try {
        assert.equal(await services.searchAttributesRegistered(), true);
        const target = await resolveTarget({ file: path.join(dir, 'sa-parent.yaml') }, services);
        const handle = await startRun(pc, target, { input: { word: 'hi' } });
        // Before any worker runs it, the client's attributes are there: the definition, and "loading".
        const atStart = await attributes(handle);
        assert.deepEqual(atStart, { id: 'sa-parent-v1', version: '2.0.1', digest: target.source.digest, status: 'loading' });

        await worker.runUntil(handle.result());
        assert.deepEqual(await attributes(handle), { id: 'sa-parent-v1', version: '2.0.1', digest: target.source.digest, status: 'completed' });
        const child = pc.client.workflow.getHandle(`${handle.workflowId}.sub`);
        const childAttributes = await attributes(child);
        assert.equal(childAttributes.id, 'sa-child-v1');
        assert.equal(childAttributes.version, '0.3.0');
        assert.match(childAttributes.digest ?? '', /^sha256:[0-9a-f]{64}$/);
        assert.equal(childAttributes.status, 'completed');

        // Few extra events: two upserts (definition known, the end), and the patch's marker
        // (with the SDK's own TemporalChangeVersion upsert).
        const history = await handle.fetchHistory();
        const events = history.events ?? [];
        assert.deepEqual(palletUpserts(events), [
          ['PalletDefinitionDigest', 'PalletDefinitionId', 'PalletDefinitionVersion', 'PalletStatus'],
          ['PalletStatus'],
        ]);
        assert.deepEqual(
          patchMarkers(events).filter((id) => id === PALLET_SEARCH_ATTRIBUTES),
          [PALLET_SEARCH_ATTRIBUTES],
        );
        await replayHistory(history, handle.workflowId, { workflowBundle: await workflowBundle() });

        // Found by the search attribute, with the Pallet status; the child only with --children.
        const rows = await runsUntil(cliEnv, ['--definition', 'sa-parent-v1'], (r) =>
          r.some((row) => row.workflow_id === handle.workflowId && row.pallet_status === 'completed'),
        );
        assert.ok(
          rows.every((row) => row.definition_id === 'sa-parent-v1'),
          JSON.stringify(rows),
        );
        const children = await runsUntil(cliEnv, ['--definition', 'sa-child-v1', '--children'], (r) =>
          r.some((row) => row.workflow_id === `${handle.workflowId}.sub`),
        );
        assert.equal(children.find((row) => row.workflow_id === `${handle.workflowId}.sub`)?.pallet_status, 'completed');
        const none = await runCli(['runs', '--json', '--definition', 'sa-nothing-v1'], { env: cliEnv });
        assert.deepEqual(JSON.parse(none.stdout), []);
        const table = await runCli(['runs', '--definition', 'sa-parent-v1'], { env: cliEnv });
        assert.match(table.stdout, /^ID +STATUS +PALLET +DEFINITION/m);
        assert.match(table.stdout, new RegExp(`^${handle.workflowId} +COMPLETED +completed +sa-parent-v1 2\\.0\\.1`, 'm'));
      } finally {
        await services.close();
      }
    });

    it('a failed run ends with PalletStatus failed', async () => {
      const { worker, pc, services } = await pallet(env, dir, agent);
      try {
        const target = await resolveTarget({ file: path.join(dir, 'sa-fails.yaml') }, services);
        const handle = await startRun(pc, target, { input: {} });
        await worker.runUntil(handle.result().catch(() => undefined));
        assert.equal((await handle.describe()).status.name, 'FAILED');
        assert.deepEqual(await attributes(handle), { id: 'sa-fails-v1', version: '1.0.0', digest: target.source.digest, status: 'failed' });
      } finally {
        await services.close();
      }
    });

    it('a run whose definition the worker loads gets it after the load; a cancelled run ends with PalletStatus cancelled', async () => {
      const { worker, pc, services } = await pallet(env, dir, agent);
      try {
        // As `pallet retry` starts runs: searchAttributesFor, and searchAttributes: true in the input.
        const typedSearchAttributes = await searchAttributesFor(pc, { definitionId: 'sa-holds-v1' });
        assert.ok(typedSearchAttributes);
        const handle = await pc.client.workflow.start(palletWorkflow, {
          taskQueue: services.settings.taskQueue,
          workflowId: uniqueId('sa-holds'),
          args: [{ source: { ref: 'sa-holds-v1', digest: '' }, input: {}, searchAttributes: true }],
          typedSearchAttributes,
        });
        assert.deepEqual(await attributes(handle), { id: 'sa-holds-v1', version: undefined, digest: undefined, status: 'loading' });
        await worker.runUntil(async () => {
          for (let i = 0; (await attributes(handle)).status !== 'running'; i++) {
            if (i > 100) assert.fail('the run never upserted PalletStatus running');
            await new Promise((r) => setTimeout(r, 100));
          }
          const running = await attributes(handle);
          assert.equal(running.version, '1.0.0');
          assert.match(running.digest ?? '', /^sha256:/);
          await handle.cancel();
          await handle.result().catch(() => undefined);
        });
        assert.equal((await handle.describe()).status.name, 'CANCELLED');
        assert.equal((await attributes(handle)).status, 'cancelled');
      } finally {
        await services.close();
      }
    });
  });

  describe('on a server without them (the shared dev server)', () => {
    it('starts and completes runs without them; `runs --definition` filters by the memo', async () => {
      const env = await temporalEnv();
      const { worker, pc, services, cliEnv } = await pallet(env, dir, agent);
      try {
        assert.equal(await services.searchAttributesRegistered(), false);
        const target = await resolveTarget({ file: path.join(dir, 'sa-parent.yaml') }, services);
        const handle = await startRun(pc, target, { input: { word: 'hi' } });
        const result = (await worker.runUntil(handle.result())) as { step_outputs: Record<string, unknown> };
        assert.deepEqual(Object.keys(result.step_outputs), ['first', 'sub']);
        assert.deepEqual(await attributes(handle), { id: undefined, version: undefined, digest: undefined, status: undefined });
        const events = (await handle.fetchHistory()).events ?? [];
        assert.deepEqual(palletUpserts(events), []);
        assert.ok(!patchMarkers(events).includes(PALLET_SEARCH_ATTRIBUTES), `no ${PALLET_SEARCH_ATTRIBUTES} marker`);

        const rows = await runsUntil(cliEnv, ['--definition', 'sa-parent-v1'], (r) => r.some((row) => row.workflow_id === handle.workflowId));
        assert.ok(
          rows.every((row) => row.definition_id === 'sa-parent-v1' && row.pallet_status === null),
          JSON.stringify(rows),
        );
        const table = await runCli(['runs', '--definition', 'sa-parent-v1'], { env: cliEnv });
        assert.match(table.stderr, /no PalletDefinitionId search attribute/);
        assert.match(table.stdout, /^ID +STATUS +DEFINITION/m);
      } finally {
        await services.close();
      }
    });
  });
});
