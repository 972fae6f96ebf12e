// Durability: a worker process killed (SIGKILL) in the middle of a run; a new worker
// finishes the run without calling the steps that had already completed.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseDefinition } from '../../src/dsl/loader';
import { gate, startTestAgent } from '../helpers/agents';
import { exited, startWorkerProcess, until, workerProcessEnv } from '../helpers/processes';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';

describe('worker killed mid-run', function () {
  this.timeout(600_000);

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
    const workerEnv = workerProcessEnv(env, taskQueue, agent.url, path.join(ROOT, 'pallet-workflows'));
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

  // Worker crashes are not the agent's failures: they do not use up the step's attempts.
  // (Before, the third crash during one long step failed the run, "gave up after 3 attempts".)
  async function killedRepeatedly(
    kills: number,
    beforeKill: (k: number, calls: Record<string, number>) => Promise<void>,
  ): Promise<{ calls: Record<string, number>; completedTwice: string[] }> {
    const env = await temporalEnv();
    const finished = new Set<string>();
    const completedTwice: string[] = [];
    const calls: Record<string, number> = {};
    const agent = await startTestAgent('crash-agent', {
      work: async (p) => {
        const step = String(p.step);
        calls[step] = (calls[step] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, Number(p.ms)));
        if (finished.has(step)) completedTwice.push(step);
        finished.add(step);
        return { step };
      },
    });
    const taskQueue = uniqueId('crashes');
    const workerEnv = workerProcessEnv(env, taskQueue, agent.url);
    const steps = Array.from(
      { length: 6 },
      (_, i) => `  - { id: s${i}, skill: work, inputs: { step: s${i}, ms: ${i === 2 ? 20000 : 1500} }, timeout: 60 }`,
    ).join('\n');
    const parsed = parseDefinition(`metadata: { id: crashes-v1, name: Crashes, version: "1" }\nsteps:\n${steps}\n`, 'crashes.yaml');
    assert.ok(parsed.ok);
    let worker = startWorkerProcess(workerEnv);
    try {
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('crashes'),
        args: [{ definition: parsed.definition, input: {} }],
      });
      for (let k = 0; k < kills; k++) {
        await beforeKill(k, calls);
        worker.kill('SIGKILL');
        await exited(worker);
        worker = startWorkerProcess(workerEnv);
      }
      const result = (await handle.result()) as { step_outputs: Record<string, unknown> };
      assert.deepEqual(Object.keys(result.step_outputs), ['s0', 's1', 's2', 's3', 's4', 's5']);
      return { calls, completedTwice };
    } finally {
      worker.kill('SIGKILL');
      await exited(worker);
      await agent.close();
    }
  }

  it('three crashes during one long step: the run still completes, and no finished step is called again', async () => {
    // Each kill lands while s2 (20 s) is being called: its first call, then each retry.
    const { calls, completedTwice } = await killedRepeatedly(3, (k, c) => until(() => (c.s2 ?? 0) === k + 1, `call ${k + 1} of s2`, 120_000));
    assert.equal(calls.s2, 4, 'three calls cut short by a crash, the fourth finished');
    assert.deepEqual(
      completedTwice.filter((s) => s !== 's2'),
      [],
    );
  });

  (process.env.PALLET_SLOW ? it : it.skip)('ten kills at random points: the run completes, no finished step is called again', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647), seed / 2147483647);
    const { completedTwice } = await killedRepeatedly(10, () => new Promise((r) => setTimeout(r, 2_000 + random() * 4_000)));
    // A call whose reply the killed worker never recorded is made again; nothing else is.
    assert.ok(completedTwice.length <= 10, completedTwice.join(', '));
  });
});
