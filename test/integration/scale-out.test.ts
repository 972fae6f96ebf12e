// Scaling out: two worker processes on one task queue share the runs, and when the one
// running a step is killed, the other finishes the run.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseDefinition } from '../../src/dsl/loader';
import type { WorkflowDefinition } from '../../src/dsl/types';
import { gate, startTestAgent } from '../helpers/agents';
import { exited, startWorkerProcess, until, type WorkerProcess } from '../helpers/processes';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';

function definition(yaml: string): WorkflowDefinition {
  const parsed = parseDefinition(yaml, 'scale.yaml');
  assert.ok(parsed.ok);
  return parsed.definition;
}

/** Worker identities (`pid@host`) that started the activities of a run. */
async function activityWorkers(workflowId: string): Promise<Set<string>> {
  const env = await temporalEnv();
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return new Set((history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.identity).filter((i): i is string => !!i));
}

describe('two workers on one task queue', function () {
  this.timeout(180_000);

  it('share the runs, and a run survives the worker running its step being killed', async () => {
    const env = await temporalEnv();
    const held = gate();
    let holding = false;
    const agent = await startTestAgent('shared-agent', {
      work: async (p) => {
        await new Promise((r) => setTimeout(r, 50));
        return { n: Number(p.n) + 1 };
      },
      hold: async () => {
        if (holding) await held.promise;
        return 'released';
      },
    });
    const taskQueue = uniqueId('scale');
    const workerEnv = {
      TEMPORAL_ADDRESS: env.address,
      PALLET_TASK_QUEUE: taskQueue,
      PALLET_AGENT_URLS: agent.url,
      PALLET_WORKFLOWS_DIR: path.join(ROOT, 'pallet-workflows'),
      PALLET_REGISTRY_DISCOVERY: 'false',
    };
    const workers: WorkerProcess[] = [startWorkerProcess(workerEnv), startWorkerProcess(workerEnv)];
    try {
      await Promise.all(workers.map((w) => w.ready));
      // Many short runs: both workers get some of the agent calls.
      const chain = definition(`
metadata: { id: chain, name: Chain, version: "1" }
steps:
  - { id: a, skill: work, inputs: { n: 0 } }
  - { id: b, skill: work, inputs: { n: "{{ steps.a.outputs.n }}" } }
  - { id: c, skill: work, inputs: { n: "{{ steps.b.outputs.n }}" } }
`);
      const ids = Array.from({ length: 12 }, () => uniqueId('chain'));
      const results = await Promise.all(
        ids.map(async (workflowId) =>
          (await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition: chain, input: {} }] })).result(),
        ),
      );
      for (const r of results) assert.deepEqual((r as { final_output: unknown }).final_output, { n: 3 });
      const identities = new Set<string>();
      for (const id of ids) for (const who of await activityWorkers(id)) identities.add(who);
      const pids = new Set([...identities].map((i) => Number(i.split('@')[0])));
      assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort(), 'both worker processes ran agent calls');

      // A run whose step is in flight on one worker: kill that worker, the other finishes it.
      holding = true;
      const workflowId = uniqueId('survivor');
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId,
        args: [
          {
            definition: definition(`
metadata: { id: survivor, name: Survivor, version: "1" }
steps:
  - { id: first, skill: work, inputs: { n: 1 } }
  - { id: wait, skill: hold, timeout: 60 }
  - { id: last, skill: work, inputs: { n: "{{ steps.first.outputs.n }}" } }
`),
            input: {},
          },
        ],
      });
      await until(() => agent.callsTo('hold').length === 1, 'the held step to reach its agent');
      const description = await handle.describe();
      const busy = description.raw.pendingActivities?.[0]?.lastWorkerIdentity ?? undefined;
      assert.ok(busy, 'a worker is running the held step');
      const victim = workers.find((w) => w.pid === Number(busy!.split('@')[0]));
      assert.ok(victim, `the step runs on one of our workers (${busy})`);
      victim.kill('SIGKILL');
      await exited(victim);
      holding = false;
      held.open();

      const result = (await handle.result()) as { final_output: unknown };
      assert.deepEqual(result.final_output, { n: 3 });
      const survivor = workers.find((w) => w !== victim)!;
      const afterKill = await activityWorkers(workflowId);
      assert.ok(
        [...afterKill].some((i) => Number(i.split('@')[0]) === survivor.pid),
        'the surviving worker ran the rest of the run',
      );
      assert.equal(agent.callsTo('hold').length, 2, 'the step in flight was retried on the other worker');
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map(exited));
      await agent.close();
    }
  });
});
