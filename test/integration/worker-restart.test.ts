// Durability: a worker process killed (SIGKILL) in the middle of a run; a new worker
// finishes the run without calling the steps that had already completed.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseDefinition } from '../../src/dsl/loader';
import { gate, startTestAgent } from '../helpers/agents';
import { exited, startWorkerProcess, until } from '../helpers/processes';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';

describe('worker killed mid-run', function () {
  this.timeout(180_000);

  it('a new worker finishes the run without repeating completed steps', async () => {
    const env = await temporalEnv();
    const held = gate();
    let released = false;
    const agent = await startTestAgent('durable-agent', {
      first: () => ({ n: 1 }),
      second: async (p) => {
        if (!released) await held.promise;
        return { n: Number((p.prev as { n: number }).n) + 1 };
      },
      third: (p) => ({ n: Number((p.prev as { n: number }).n) + 1 }),
    });
    const taskQueue = uniqueId('restart');
    const workerEnv = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      PALLET_TASK_QUEUE: taskQueue,
      PALLET_AGENT_URLS: agent.url,
      PALLET_WORKFLOWS_DIR: path.join(ROOT, 'pallet-workflows'),
      PALLET_REGISTRY_DISCOVERY: 'false',
    };
    const parsed = parseDefinition(
      `
metadata: { id: durable-v1, name: Durable, version: "1" }
steps:
  - { id: one, skill: first, timeout: 60 }
  - { id: two, skill: second, inputs: { prev: "{{ steps.one.outputs }}" }, timeout: 60 }
  - { id: three, skill: third, inputs: { prev: "{{ steps.two.outputs }}" }, timeout: 60 }
`,
      'durable.yaml',
    );
    assert.ok(parsed.ok);
    let worker = startWorkerProcess(workerEnv);
    try {
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('durable'),
        args: [{ definition: parsed.definition, input: {} }],
      });
      await until(() => agent.callsTo('second').length === 1, 'the second step to reach its agent');
      worker.kill('SIGKILL');
      await exited(worker);

      released = true;
      held.open();
      worker = startWorkerProcess(workerEnv);
      const result = (await handle.result()) as { final_output: unknown; step_outputs: Record<string, unknown> };

      assert.deepEqual(result.final_output, { n: 3 });
      assert.equal(agent.callsTo('first').length, 1, 'the completed first step was not called again');
      assert.equal(agent.callsTo('third').length, 1);
      // The call that was in flight when the worker died is made again, with the same call id.
      assert.equal(agent.callsTo('second').length, 2);
      assert.equal(agent.callsTo('second')[0].id, agent.callsTo('second')[1].id);
    } finally {
      worker.kill('SIGKILL');
      await exited(worker);
      await agent.close();
    }
  });
});
