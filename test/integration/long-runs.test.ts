// Runs of any length on the real dev server: a run whose history passes its limit continues
// as new, carrying its finished steps, as many times as it takes; the result is the one a
// single long history would give (Pallet's order included). Here with a low limit; the
// 10,000-step and 5,000-branch cases run with PALLET_SLOW=1 (npm run test:slow).
import assert from 'node:assert/strict';
import type { RunResult, WorkflowDefinition } from '../../src/dsl/types';
import type { PalletWorkflowInput } from '../../src/contract';
import { palletWorkflow } from '../../src/workflows';
import { SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { def } from '../helpers/runs';
import { temporalEnv } from '../helpers/temporal';
import { maybeRecord } from '../helpers/histories';
import { createTestWorker, uniqueId } from '../helpers/worker';

const slow = process.env.PALLET_SLOW ? it : it.skip;

function chain(n: number): WorkflowDefinition {
  const steps = Array.from({ length: n }, (_, i) =>
    i === 0
      ? `  - { id: s0, skill: inc, inputs: { n: "{{ workflow.input.start }}" }, outputs: r }`
      : `  - { id: s${i}, skill: inc, inputs: { n: "{{ steps.s${i - 1}.outputs.r.n }}" }, outputs: r }`,
  );
  return def(`metadata: { id: chain, name: Chain, version: "1" }\nsteps:\n${steps.join('\n')}\n`);
}

function fan(n: number): WorkflowDefinition {
  const branches = Array.from({ length: n }, (_, i) => `        - { id: b${i}, skill: inc, inputs: { n: ${i} } }`).join('\n');
  return def(
    `metadata: { id: fan, name: Fan, version: "1" }\nsteps:\n  - { id: first, skill: inc, inputs: { n: -1 } }\n  - id: fan\n    step_type: parallel\n    branches:\n      steps:\n${branches}\n  - { id: last, skill: inc, inputs: { n: "{{ steps.b0.outputs.n }}" } }\n`,
  );
}

describe('long runs continue as new (real server)', function () {
  this.timeout(1_800_000);
  let agent: TestAgent;
  let failLast = true;

  before(async () => {
    agent = await startTestAgent('counter', {
      inc: (p) => ({ n: Number(p.n) + 1 }),
      flaky: (p) => {
        if (failLast) throw new SkillError('not yet');
        return { done: p.n };
      },
    });
  });
  after(() => agent.close());

  /** Runs to the end; returns the result and the generations the last run was told of. */
  async function runToEnd(definition: WorkflowDefinition, input: Record<string, unknown>, historyLimit?: number) {
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    const workflowId = uniqueId('long');
    const args: PalletWorkflowInput = { definition, input, ...(historyLimit ? { historyLimit } : {}) };
    const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [args] });
    const started = Date.now();
    const result = await worker.runUntil(handle.result());
    const seconds = (Date.now() - started) / 1000;
    const last = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const { defaultPayloadConverter } = await import('@temporalio/common');
    const lastArgs = defaultPayloadConverter.fromPayload<PalletWorkflowInput>(last.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0]);
    return { result, generations: lastArgs.generations ?? [], events: last.events!.length, seconds, workflowId };
  }

  it('a sequential run past its history limit continues as new, with the result of one long run', async () => {
    const long = await runToEnd(chain(60), { start: 0 }, 120);
    // The first generation, which ends by continuing as new, and a batched parallel step (below) replay too.
    await maybeRecord('continue-as-new-generation', long.workflowId, long.generations[0]?.run_id);
    // A later generation takes the carried steps (patch quick-carried-steps): it replays too.
    await maybeRecord('continue-as-new-carried', long.workflowId, long.generations[1]?.run_id);
    const single = await runToEnd(chain(60), { start: 0 });
    assert.ok(long.generations.length >= 2, `${long.generations.length} earlier generations`);
    assert.ok(
      long.generations.every((g) => g.events >= 120 && g.events < 200),
      JSON.stringify(long.generations),
    );
    assert.deepEqual(long.result, single.result, 'the same result, key for key and in order');
    assert.deepEqual((long.result.final_output as { r: unknown }).r, { n: 60 });
  });

  it('a parallel step of 1,200 branches runs in batches of child workflows, in Pallet order', async () => {
    const { result, workflowId } = await runToEnd(fan(1200), {});
    assert.deepEqual(Object.keys(result.step_outputs), ['first', ...Array.from({ length: 1200 }, (_, i) => `b${i}`), 'last']);
    assert.deepEqual(result.step_outputs.b1199.outputs, { n: 1200 });
    const env = await temporalEnv();
    const batch = await env.client.workflow.getHandle(`${workflowId}.fan.batch-2`).describe();
    assert.equal(batch.status.name, 'COMPLETED', 'the third batch ran as a child workflow');
    await maybeRecord('batched-parallel', workflowId);
  });

  it('a parallel step cut across generations keeps Pallet order and calls each branch once', async () => {
    const before = agent.callsTo('inc').length;
    const long = await runToEnd(fan(150), {}, 200);
    assert.ok(long.generations.length >= 1, 'it continued as new');
    const keys = Object.keys(long.result.step_outputs);
    assert.deepEqual(keys, ['first', ...Array.from({ length: 150 }, (_, i) => `b${i}`), 'last']);
    assert.equal(agent.callsTo('inc').length - before, 152, 'no call twice');
  });

  it('retry of a run that failed after continuing as new reuses every step of every generation', async () => {
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    const workflowId = uniqueId('long-retry');
    failLast = true;
    const definition = def(
      `metadata: { id: chain-fail, name: Chain, version: "1" }\nsteps:\n${chain(40)
        .steps.map((st) => `  - ${JSON.stringify(st)}`)
        .join('\n')}\n  - { id: last, skill: flaky, inputs: { n: "{{ steps.s39.outputs.r.n }}" } }\n`,
    );
    const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition, input: { start: 0 }, historyLimit: 100 }] });
    await worker.runUntil(
      handle.result().then(
        () => assert.fail('should fail'),
        () => undefined,
      ),
    );
    const before = agent.callsTo('inc').length;
    failLast = false;
    const { runCli } = await import('../helpers/cli');
    const { worker: again } = await createTestWorker({ agentUrls: [agent.url], taskQueue });
    const res = await again.runUntil(runCli(['retry', workflowId, '--json'], { env: { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue } }));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual((JSON.parse(res.stdout) as RunResult).final_output, { done: 40 });
    assert.equal(agent.callsTo('inc').length, before, 'no step of any generation was called again');
  });

  slow('10,000 sequential steps complete across generations', async () => {
    const { result, generations, seconds } = await runToEnd(chain(10_000), { start: 0 });
    console.log(`      10,000 steps: ${seconds.toFixed(0)} s, ${generations.length + 1} generations, events ${generations.map((g) => g.events).join(', ')}`);
    assert.deepEqual((result.final_output as { r: unknown }).r, { n: 10_000 });
    assert.equal(Object.keys(result.step_outputs).length, 10_000);
  });

  slow('a parallel step of 5,000 branches completes', async () => {
    const { result, generations, seconds } = await runToEnd(fan(5_000), {});
    console.log(`      5,000 branches: ${seconds.toFixed(0)} s, ${generations.length + 1} generations`);
    assert.equal(Object.keys(result.step_outputs).length, 5_002);
  });
});
