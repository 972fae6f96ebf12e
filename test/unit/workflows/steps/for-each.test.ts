// for_each steps: the body runs once per item, sees `item`, `index` and its own outputs,
// at most `concurrency` at a time; the step's output is the list of each iteration's last
// output, in item order; the body steps are not in the run's result.
import assert from 'node:assert/strict';
import { echo, run, steps } from '../harness';

describe('steps/for_each', () => {
  it('runs the body per item with item, index and its own outputs; outputs the list in item order', async () => {
    const { result, log, walker } = await run(
      steps(`
  - { id: plan, skill: s, inputs: { reply: [a, b, c] }, outputs: files }
  - id: each
    step_type: for_each
    items: "{{ steps.plan.outputs.files }}"
    outputs: summaries
    steps:
      - { id: read, skill: s, inputs: { reply: "{{ item }}-{{ index }}" } }
      - { id: summarize, skill: s, inputs: { reply: "summary of {{ steps.read.outputs }}" } }
  - { id: total, skill: s, inputs: { reply: "\${{ size(steps.each.outputs.summaries) }}" } }
`),
      { s: echo },
    );
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'each', 'total']);
    assert.deepEqual(result.step_outputs.each.outputs, { summaries: ['summary of a-0', 'summary of b-1', 'summary of c-2'] });
    assert.equal(result.final_output, 3);
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['plan', 'each[0].read', 'each[0].summarize', 'each[1].read', 'each[1].summarize', 'each[2].read', 'each[2].summarize', 'total'],
    );
    assert.deepEqual(walker.state.step_outputs['each[1].read'], { outputs: 'b-1' }, 'the live state names body steps by iteration');
    assert.deepEqual(walker.state.containers.each, { step_type: 'for_each', steps: ['read', 'summarize'], items: 3 });
  });

  it('runs at most `concurrency` items at once, and starts them in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = async (inputs: Record<string, unknown>) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return inputs.n;
    };
    const { result, log } = await run(
      steps(`
  - id: each
    step_type: for_each
    items: "\${{ [1, 2, 3, 4, 5, 6, 7] }}"
    concurrency: 3
    steps: [ { id: double, skill: slow, inputs: { n: "\${{ item * 2 }}" } } ]
`),
      { slow },
    );
    assert.equal(peak, 3);
    assert.deepEqual(result.step_outputs.each.outputs, [2, 4, 6, 8, 10, 12, 14]);
    assert.deepEqual(
      log.calls.slice(0, 3).map((c) => c.step),
      ['each[0].double', 'each[1].double', 'each[2].double'],
    );
  });

  it('items that are not a list fail the step, naming what they were', async () => {
    await assert.rejects(
      run(
        steps(`  - { id: each, step_type: for_each, items: "{{ workflow.input.files }}", steps: [ { id: x, skill: s } ] }\n`),
        { s: echo },
        { files: 'a.txt' },
      ),
      /^ApplicationFailure: Step "each" failed \(for_each\): items must be a list, and "\{\{ workflow\.input\.files \}\}" gave a string$/,
    );
  });

  it('a failing body step fails the run, naming its iteration; an empty list outputs []', async () => {
    const boom = (inputs: Record<string, unknown>) => {
      if (inputs.n === 2) throw new Error('bad item');
      return inputs.n;
    };
    await assert.rejects(
      run(steps(`  - { id: each, step_type: for_each, items: [1, 2, 3], steps: [ { id: x, skill: boom, inputs: { n: "{{ item }}" } } ] }\n`), { boom }),
      /Step "x" \(in "each\[1\]"\) failed \(skill boom\): bad item/,
    );
    const { result } = await run(steps(`  - { id: each, step_type: for_each, items: [], steps: [ { id: x, skill: boom } ] }\n`), { boom });
    assert.deepEqual(result.step_outputs.each.outputs, []);
  });

  it('nested loops: the inner item shadows the outer one, and the inner body sees the outer iteration', async () => {
    const { result, log } = await run(
      steps(`
  - id: rows
    step_type: for_each
    items: [[1, 2], [3]]
    steps:
      - { id: label, skill: s, inputs: { reply: "row {{ index }}" } }
      - id: cells
        step_type: for_each
        items: "{{ item }}"
        steps: [ { id: cell, skill: s, inputs: { reply: "{{ steps.label.outputs }}: {{ item }}" } } ]
`),
      { s: echo },
    );
    assert.deepEqual(result.step_outputs.rows.outputs, [['row 0: 1', 'row 0: 2'], ['row 1: 3']]);
    assert.ok(log.calls.some((c) => c.step === 'rows[1].cells[0].cell'));
  });

  it('an earlier generation finished: the list stands and nothing runs again', async () => {
    const definition = steps(
      `  - { id: each, step_type: for_each, items: [1, 2], steps: [ { id: x, skill: s, inputs: { reply: "{{ item }}" } } ] }\n  - { id: after, skill: s, inputs: { reply: done } }\n`,
    );
    const { result, log } = await run(definition, { s: echo }, {}, { resume: { carried: { each: [1, 2], 'each[0].x': 1 } } });
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['after'],
    );
    assert.deepEqual(result.step_outputs.each.outputs, [1, 2]);
    // Cut mid-loop: the iterations it finished are taken, the others run.
    const partial = await run(definition, { s: echo }, {}, { resume: { carried: { 'each[0].x': 1 } } });
    assert.deepEqual(
      partial.log.calls.map((c) => c.step),
      ['each[1].x', 'after'],
    );
    assert.deepEqual(partial.result.step_outputs.each.outputs, [1, 2]);
  });
});

describe('steps/for_each and retry', () => {
  it("a retry's offers for loop body steps are taken by iteration when unchanged", async () => {
    const { stepKey } = await import('../../../../src/contract');
    const definition = steps(`  - { id: each, step_type: for_each, items: [1, 2], steps: [ { id: x, skill: s, inputs: { reply: "{{ item }}" } } ] }\n`);
    const body = (definition.steps[0] as { steps: { id: string; skill: string }[] }).steps[0];
    // As retry computes them from the failed run's history: keyed by the step as written.
    const offers = { 'each[0].x': { result: 'old 1', key: stepKey(body, { reply: 1 }) }, 'each[1].x': { result: 'old 2', key: stepKey(body, { reply: 99 }) } };
    const { result, log } = await run(definition, { s: echo }, {}, { resume: { offers } });
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['each[1].x'],
      'item 0 unchanged: reused; item 1 changed: called',
    );
    assert.deepEqual(result.step_outputs.each.outputs, ['old 1', 2]);
  });
});
