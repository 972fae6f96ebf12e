// repeat steps: the body runs until `until` holds after an iteration, at most max_iterations
// times; each iteration sees the previous one's outputs; the output is {result, iterations, until_met}.
import assert from 'node:assert/strict';
import { run, steps } from '../harness';

const DRAFTS = steps(`
  - id: refine
    step_type: repeat
    until: "\${{ steps.review.outputs.score >= 3 }}"
    max_iterations: 5
    outputs: final
    steps:
      - { id: draft, skill: draft, inputs: { previous: "{{ steps.draft.outputs }}", feedback: "{{ steps.review.outputs.note }}", round: "{{ index }}" } }
      - { id: review, skill: review, inputs: { text: "{{ steps.draft.outputs }}" } }
  - { id: publish, skill: publish, inputs: { text: "{{ steps.refine.outputs.final.result }}" } }
`);

describe('steps/repeat', () => {
  it('runs until the condition holds, each iteration seeing the last one; outputs the last result', async () => {
    const { result, log } = await run(DRAFTS, {
      draft: (i) => `${i.previous ?? 'start'}+${i.round}`,
      review: (i) => ({ score: String(i.text).split('+').length - 1, note: `round of ${String(i.text)}` }),
      publish: (i) => i.text,
    });
    assert.deepEqual(result.step_outputs.refine.outputs, { final: { result: { score: 3, note: 'round of start+0+1+2' }, iterations: 3, until_met: true } });
    assert.deepEqual(Object.keys(result.step_outputs), ['refine', 'publish']);
    assert.deepEqual(
      log.calls.filter((c) => c.step.endsWith('.draft')).map((c) => c.inputs),
      [
        { previous: null, feedback: null, round: 0 },
        { previous: 'start+0', feedback: 'round of start+0', round: 1 },
        { previous: 'start+0+1', feedback: 'round of start+0+1', round: 2 },
      ],
    );
  });

  it('stops at max_iterations with until_met false, and the run goes on', async () => {
    const { result } = await run(DRAFTS, { draft: () => 'same', review: () => ({ score: 0, note: 'no' }), publish: (i) => i.text });
    assert.deepEqual((result.step_outputs.refine.outputs as { final: { iterations: number; until_met: boolean } }).final.iterations, 5);
    assert.equal((result.step_outputs.refine.outputs as { final: { until_met: boolean } }).final.until_met, false);
  });

  it('an until expression that fails fails the step, naming the iteration', async () => {
    await assert.rejects(
      run(steps(`  - { id: r, step_type: repeat, until: "\${{ steps.x.outputs.missing > 1 }}", max_iterations: 3, steps: [ { id: x, skill: s } ] }\n`), {
        s: () => ({}),
      }),
      /^ApplicationFailure: Step "r" failed \(repeat\): until \(after iteration 0\) \$\{\{ steps\.x\.outputs\.missing > 1 \}\}: No such key: missing$/,
    );
  });
});
