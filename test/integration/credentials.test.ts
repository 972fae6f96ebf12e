// Credentials (PALLET_AGENT_CREDENTIALS) go to the agent's host on the wire and nowhere else:
// on the real dev server, a run whose agent requires a bearer token completes, another fails
// with the agent's message, and the secret is in neither history (inputs, results, failures),
// memo nor search attributes.
import assert from 'node:assert/strict';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import path from 'node:path';
import { parseAgentCredentials } from '../../src/agents/credentials';
import { createActivities } from '../../src/activities';
import type { RunResult } from '../../src/dsl/types';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { palletWorkflow } from '../../src/workflows';
import { HttpReply, startTestAgent, type TestAgent } from '../helpers/agents';
import { def, failureMessage } from '../helpers/runs';
import { ROOT, temporalEnv, workflowBundle } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';

const SECRET = 's3cret-token-4f1e9a';

/** Every string in a history's JSON, payloads (base64) decoded: what an operator could read from it. */
function readable(json: string): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      out.push(v);
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(v) && v.length % 4 === 0) out.push(Buffer.from(v, 'base64').toString('utf8'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(json));
  return out.join('\n');
}

describe('agent credentials stay on the wire (real server)', function () {
  this.timeout(120_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent('secure', {
      greet: (p, call) => {
        if (call.authorization !== `Bearer ${SECRET}`) throw new HttpReply(401, '{"error": "missing or wrong token"}');
        return { hello: p.name };
      },
      broken: () => {
        throw new HttpReply(403, '{"error": "not for you"}');
      },
    });
  });
  after(() => agent.close());

  it('the token reaches the agent; neither history, memo nor search attributes hold it', async () => {
    const env = await temporalEnv();
    const taskQueue = uniqueId('credentials');
    const credentials = parseAgentCredentials(JSON.stringify({ '127.0.0.1': { bearer: SECRET } }));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({
        directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000),
        definitions: new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
        credentials,
      }),
    });
    const ok = def('metadata: { id: secure, name: Secure, version: "1" }\nsteps:\n  - { id: hi, skill: greet, inputs: { name: Ada } }\n');
    const bad = def('metadata: { id: secure-bad, name: Secure bad, version: "1" }\nsteps:\n  - { id: refused, skill: broken, inputs: {} }\n');
    const [done, failed] = [uniqueId('secure-ok'), uniqueId('secure-bad')];
    await worker.runUntil(async () => {
      const result = (await env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId: done, args: [{ definition: ok, input: {} }] })) as RunResult;
      assert.deepEqual(result.step_outputs.hi.outputs, { hello: 'Ada' });
      const message = await failureMessage(
        env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId: failed, args: [{ definition: bad, input: {} }] }),
      );
      assert.match(message, /not for you/);
    });
    assert.ok(
      agent.calls.every((c) => c.authorization === `Bearer ${SECRET}`),
      'every call carried the token',
    );
    for (const id of [done, failed]) {
      const handle = env.client.workflow.getHandle(id);
      const history = readable(historyToJSON(await handle.fetchHistory()));
      assert.ok(history.includes('hello') || history.includes('not for you'), 'the history holds the run (the check can fail)');
      assert.ok(!history.includes(SECRET), `the history of ${id} holds no secret`);
      const described = await handle.describe();
      assert.ok(!JSON.stringify(described.memo ?? {}).includes(SECRET), 'no secret in the memo');
      assert.ok(!JSON.stringify(described.raw.workflowExecutionInfo?.searchAttributes ?? {}).includes(SECRET), 'no secret in the search attributes');
    }
    assert.deepEqual(credentials.secrets(), [SECRET]);
  });
});
