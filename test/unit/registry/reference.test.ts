import assert from 'node:assert/strict';
import { agentReference, formatReference, parseReference, RegistryError, workflowReference } from '../../../src/registry';

const D = `sha256:${'ab'.repeat(32)}`;
const R = 'localhost:5000';

describe('registry references', () => {
  describe('parseReference', () => {
    it('reads host:port/repo/path:tag', () => {
      assert.deepEqual(parseReference('127.0.0.1:5001/workflows/code-generation:v2', R), {
        registry: '127.0.0.1:5001',
        repository: 'workflows/code-generation',
        tag: 'v2',
      });
    });

    it('uses the default registry when the first component is not a host', () => {
      assert.deepEqual(parseReference('workflows/x:v1', R), { registry: R, repository: 'workflows/x', tag: 'v1' });
      assert.deepEqual(parseReference('repo:tag', R), { registry: R, repository: 'repo', tag: 'tag' });
      assert.equal(parseReference('ghcr.io/org/repo:1', R).registry, 'ghcr.io');
      assert.equal(parseReference('localhost/repo', R).registry, 'localhost');
      assert.equal(parseReference('[::1]:5000/repo', R).registry, '[::1]:5000');
    });

    it('defaults the tag to latest only without a digest', () => {
      assert.deepEqual(parseReference('repo', R), { registry: R, repository: 'repo', tag: 'latest' });
      assert.deepEqual(parseReference(`repo@${D}`, R), { registry: R, repository: 'repo', digest: D });
      assert.deepEqual(parseReference(`h.io:1/repo:v1@${D}`, R), { registry: 'h.io:1', repository: 'repo', tag: 'v1', digest: D });
    });

    for (const bad of ['', 'Repo:v1', 'repo@sha256:abc', 'repo:-bad', 'http://localhost:5000/repo', 'a//b', 'repo:']) {
      it(`rejects ${JSON.stringify(bad)} with invalid_reference`, () => {
        assert.throws(
          () => parseReference(bad, R),
          (err: unknown) => err instanceof RegistryError && err.code === 'invalid_reference' && err.message.includes('invalid registry reference'),
        );
      });
    }
  });

  describe('workflowReference (Pallet rule)', () => {
    const cases: [string, object][] = [
      ['code-generation-v1', { repository: 'workflows/code-generation', tag: 'v1' }],
      ['code-generation-v12', { repository: 'workflows/code-generation', tag: 'v12' }],
      ['code-generation', { repository: 'workflows/code-generation', tag: 'v1' }],
      ['code-generation:v2', { repository: 'workflows/code-generation', tag: 'v2' }],
      ['code-generation-v1:v3', { repository: 'workflows/code-generation-v1', tag: 'v3' }],
      [`code-generation@${D}`, { repository: 'workflows/code-generation', digest: D }],
      ['workflows/code-generation', { repository: 'workflows/code-generation', tag: 'latest' }],
      ['workflows/code-generation-v1:v1', { repository: 'workflows/code-generation-v1', tag: 'v1' }],
      ['team/flow-v2', { repository: 'workflows/team/flow', tag: 'v2' }],
    ];
    for (const [input, expected] of cases) {
      it(`${input} → ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(workflowReference(input, R), { registry: R, ...expected });
      });
    }

    it('takes a reference with a registry host as is', () => {
      assert.deepEqual(workflowReference('reg.example:443/other/thing:v9', R), { registry: 'reg.example:443', repository: 'other/thing', tag: 'v9' });
    });
  });

  it('agentReference puts cards under agents/<agent>:v1', () => {
    assert.equal(formatReference(agentReference('plan', R)), `${R}/agents/plan:v1`);
    assert.equal(formatReference(agentReference('plan-agent', R)), `${R}/agents/plan:v1`);
  });

  it('formatReference round-trips', () => {
    for (const s of [`${R}/workflows/x:v1`, `${R}/workflows/x@${D}`, `h.io/a/b:t@${D}`]) {
      assert.equal(formatReference(parseReference(s, R)), s);
    }
    assert.equal(formatReference(parseReference('workflows/x:v1', R), false), 'workflows/x:v1');
  });
});
