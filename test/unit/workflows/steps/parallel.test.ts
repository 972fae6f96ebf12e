// parallel steps: concurrency, isolation from siblings, Pallet's recording order.
import assert from 'node:assert/strict';
import { echo, run, steps } from '../harness';

const FAN = `
  - { id: first, skill: s, inputs: { reply: 1 } }
  - id: fan
    step_type: parallel
    branches:
      steps:
        - { id: slow, skill: slow, inputs: { seen: "{{ steps.first.outputs }}" }, outputs: named }
        - { id: fast, skill: s, inputs: { reply: fast } }
`;

describe('steps/parallel', () => {
  it('runs its steps at once and records them in declaration order once all finished; the container records nothing', async () => {
    const order: string[] = [];
    const slow = async (i: Record<string, unknown>) => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('slow');
      return i;
    };
    const fast = (i: Record<string, unknown>) => (order.push('fast'), echo(i));
    const { result, walker } = await run(steps(FAN), { slow, s: fast });
    assert.deepEqual(order, ['fast', 'fast', 'slow']);
    assert.deepEqual(Object.keys(result.step_outputs), ['first', 'slow', 'fast']);
    assert.deepEqual(result.step_outputs.slow.outputs, { named: { seen: 1 } });
    // The last declared branch step is the final output, whatever finished last.
    assert.equal(result.final_output, 'fast');
    // The live state keeps the order steps finished in, and what the container held.
    assert.deepEqual(walker.state.finished, ['first', 'fast', 'slow']);
    assert.deepEqual(walker.state.containers.fan, { step_type: 'parallel', steps: ['slow', 'fast'] });
  });

  it('one failing step fails the parallel step', async () => {
    await assert.rejects(run(steps(FAN), { s: echo }), /Step "slow" \(in "fan"\) failed \(skill slow\)/);
  });
});

describe('steps/parallel in batches', () => {
  it('a parallel step past 1,000 branches runs them in batches of 500 and records them in declaration order', async () => {
    const { WorkflowRun } = await import('../../../../src/workflows/walker');
    const { effects, newLog, steps } = await import('../harness');
    const branches = Array.from({ length: 1200 }, (_, i) => `        - { id: b${i}, skill: s, inputs: { reply: "{{ steps.first.outputs }}-${i}" } }`).join(
      '\n',
    );
    const definition = steps(
      `  - { id: first, skill: s, inputs: { reply: x } }\n  - id: fan\n    step_type: parallel\n    branches:\n      steps:\n${branches}\n`,
    );
    const batches: { index: number; size: number; context: unknown }[] = [];
    const log = newLog();
    const base = effects({ s: (i) => i.reply }, log);
    const run = new WorkflowRun(
      definition,
      {},
      {
        ...base,
        // As the interpreter does: each batch a run of its own, seeing the parent's outputs.
        batches: {
          allowed: () => true,
          run: ({ step, index, branches: chunk, context }) => {
            batches.push({ index, size: chunk.length, context });
            const batch = new WorkflowRun({ ...definition, steps: [{ ...step, branches: { steps: chunk } }] }, {}, base, { context });
            return batch.run();
          },
        },
      },
    );
    const result = await run.run();
    assert.deepEqual(
      batches.map((b) => [b.index, b.size]),
      [
        [0, 500],
        [1, 500],
        [2, 200],
      ],
    );
    assert.deepEqual(batches[0].context, { first: 'x' });
    assert.deepEqual(Object.keys(result.step_outputs), ['first', ...Array.from({ length: 1200 }, (_, i) => `b${i}`)]);
    assert.equal(result.step_outputs.b1199.outputs, 'x-1199');
  });
});

describe('steps/parallel in batches inside a loop', () => {
  it("each iteration's batches run as that iteration: its own ids, its item and index, its body's outputs", async () => {
    const { WorkflowRun } = await import('../../../../src/workflows/walker');
    const { writtenStepId } = await import('../../../../src/history/ids');
    const { effects, newLog, steps } = await import('../harness');
    const branches = Array.from(
      { length: 1001 },
      (_, i) => `              - { id: b${i}, skill: s, inputs: { reply: "{{ item }}/{{ index }}/{{ steps.pre.outputs }}/${i}" } }`,
    ).join('\n');
    const definition = steps(
      `  - id: loop\n    step_type: for_each\n    items: [red, blue]\n    steps:\n      - { id: pre, skill: s, inputs: { reply: "p{{ index }}" } }\n      - id: fan\n        step_type: parallel\n        branches:\n          steps:\n${branches}\n      - { id: post, skill: s, inputs: { reply: "{{ steps.b1000.outputs }}" } }\n`,
    );
    const log = newLog();
    const base = effects({ s: (i) => i.reply }, log);
    const seen: { step: string; prefix?: string }[] = [];
    const run = new WorkflowRun(
      definition,
      {},
      {
        ...base,
        // As the interpreter does: a batch is a run of its own, walking as the iteration it belongs to.
        batches: {
          allowed: () => true,
          run: ({ step, branches: chunk, context, frame }) => {
            seen.push({ step: step.id, prefix: frame?.prefix });
            const batch = new WorkflowRun({ ...definition, steps: [{ ...step, id: writtenStepId(step.id), branches: { steps: chunk } }] }, {}, base, {
              context,
              frame,
            });
            return batch.run();
          },
        },
      },
    );
    const result = await run.run();
    // 1,001 branches: batches of 500, 500 and 1 in each iteration.
    const batch = (i: number) => ({ step: `loop[${i}].fan`, prefix: `loop[${i}].` });
    assert.deepEqual(seen, [batch(0), batch(0), batch(0), batch(1), batch(1), batch(1)]);
    // The loop's output: each iteration's last step read its own batch's last branch.
    assert.deepEqual(result.step_outputs.loop.outputs, ['red/0/p0/1000', 'blue/1/p1/1000']);
    // Agent calls are named after their iteration, so no two iterations share an id.
    assert.ok(log.calls.some((c) => c.step === 'loop[1].b7'));
    assert.equal(new Set(log.calls.map((c) => c.step)).size, log.calls.length);
    assert.equal(run.state.step_outputs['loop[0].b3'].outputs, 'red/0/p0/3');
  });
});
