// wait steps: the outcome's branch runs, the output {outcome, data, by} is recorded (before
// the branch's steps) and readable by later steps, the live state lists pending waits, a
// reused output is not waited for again, and several waits can be pending in parallel.
import assert from 'node:assert/strict';
import type { WaitOutput } from '../../../../src/contract';
import type { WaitCall } from '../../../../src/workflows/steps/types';
import { echo, run, steps } from '../harness';

const GATE = `
  - { id: draft, skill: s, inputs: { reply: draft-1 } }
  - id: review
    step_type: wait
    event: editor_ok
    timeout: 2d
    branches:
      approved: [{ id: publish, skill: s, inputs: { reply: "{{ steps.review.outputs.data.note }}" }, outputs: published }]
      rejected: [{ id: rework, skill: s, inputs: { reply: "{{ steps.review.outputs.by }}" } }]
      timed_out: [{ id: remind, skill: s, inputs: { reply: reminded } }]
  - { id: after, skill: s, inputs: { reply: "\${{ steps.review.outputs.outcome }}" } }
`;

/** A waitForEvent effect answering each wait with `answer(call)`, recording the calls and the live state's waiting list. */
function answering(answer: (call: WaitCall) => WaitOutput | Promise<WaitOutput>) {
  const calls: { step: string; event: string; timeoutMs?: number }[] = [];
  return {
    calls,
    waitForEvent: async (call: WaitCall) => {
      calls.push({ step: call.step.id, event: call.event, timeoutMs: call.timeoutMs });
      call.onWaiting({
        since: '2030-01-01T00:00:00.000Z',
        timeout_at: call.timeoutMs === undefined ? null : new Date(Date.parse('2030-01-01T00:00:00.000Z') + call.timeoutMs).toISOString(),
      });
      return answer(call);
    },
  };
}

describe('steps/wait', () => {
  it('approved: records {outcome, data, by}, runs the approved branch (outputs honoured), later steps read it', async () => {
    const effect = answering(() => ({ outcome: 'approved', data: { note: 'ship it' }, by: 'ana' }));
    const { result, walker } = await run(steps(GATE), { s: echo }, {}, { effects: { waitForEvent: effect.waitForEvent } });
    assert.deepEqual(effect.calls, [{ step: 'review', event: 'editor_ok', timeoutMs: 2 * 86_400_000 }]);
    assert.deepEqual(Object.keys(result.step_outputs), ['draft', 'review', 'publish', 'after']);
    assert.deepEqual(result.step_outputs.review.outputs, { outcome: 'approved', data: { note: 'ship it' }, by: 'ana' });
    assert.deepEqual(result.step_outputs.publish.outputs, { published: 'ship it' });
    assert.equal(result.final_output, 'approved');
    assert.equal(walker.state.waiting, undefined, 'nothing waits once it is over');
  });

  it('rejected and timed_out run their own branches', async () => {
    const rejected = await run(steps(GATE), { s: echo }, {}, { effects: answering(() => ({ outcome: 'rejected', data: null, by: 'bo' })) });
    assert.deepEqual(Object.keys(rejected.result.step_outputs), ['draft', 'review', 'rework', 'after']);
    assert.equal(rejected.result.step_outputs.rework.outputs, 'bo');
    const timedOut = await run(steps(GATE), { s: echo }, {}, { effects: answering(() => ({ outcome: 'timed_out', data: null })) });
    assert.deepEqual(Object.keys(timedOut.result.step_outputs), ['draft', 'review', 'remind', 'after']);
    assert.deepEqual(timedOut.result.step_outputs.review.outputs, { outcome: 'timed_out', data: null });
  });

  it('the event defaults to the step id; no timeout means none; a missing branch runs nothing', async () => {
    const effect = answering(() => ({ outcome: 'rejected', data: null }));
    const { result } = await run(steps('  - { id: ok, step_type: wait, branches: { approved: [{ id: x, skill: s }] } }'), { s: echo }, {}, { effects: effect });
    assert.deepEqual(effect.calls, [{ step: 'ok', event: 'ok', timeoutMs: undefined }]);
    assert.deepEqual(Object.keys(result.step_outputs), ['ok']);
  });

  it('the live state lists every pending wait (parallel branches) while they wait', async () => {
    const seen: unknown[] = [];
    const release: (() => void)[] = [];
    const effect = answering(
      () =>
        new Promise<WaitOutput>((resolve) => {
          release.push(() => resolve({ outcome: 'approved', data: null }));
        }),
    );
    const pending = run(
      steps(`
  - id: both
    step_type: parallel
    branches:
      steps:
        - { id: legal, step_type: wait, timeout: 90s }
        - { id: finance, step_type: wait, event: budget }`),
      {},
      {},
      { effects: { ...effect, onChange: (state) => seen.push(structuredClone(state.waiting)) } },
    );
    while (release.length < 2) await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.at(-1), [
      { step: 'legal', event: 'legal', since: '2030-01-01T00:00:00.000Z', timeout_at: '2030-01-01T00:01:30.000Z' },
      { step: 'finance', event: 'budget', since: '2030-01-01T00:00:00.000Z', timeout_at: null },
    ]);
    release.forEach((r) => r());
    const { result, walker } = await pending;
    assert.deepEqual(Object.keys(result.step_outputs), ['legal', 'finance']);
    assert.equal(walker.state.waiting, undefined);
  });

  it('a run that already has its output (a new history, `completed`) does not wait again', async () => {
    const effect = answering(() => assert.fail('waited again'));
    const { result, walker } = await run(
      steps(GATE),
      { s: echo },
      {},
      { effects: effect, resume: { completed: { review: { outcome: 'approved', data: { note: 'earlier' }, by: 'ana' } } } },
    );
    assert.deepEqual(result.step_outputs.publish.outputs, { published: 'earlier' });
    assert.deepEqual(walker.state.reused, ['review']);
  });

  it('a templated timeout is resolved when the step runs; a bad one fails the step', async () => {
    const effect = answering(() => ({ outcome: 'timed_out', data: null }));
    await run(steps('  - { id: w, step_type: wait, timeout: "{{ workflow.input.t }}", branches: { timed_out: [] } }'), {}, { t: 30 }, { effects: effect });
    assert.equal(effect.calls[0].timeoutMs, 30_000);
    await assert.rejects(
      run(steps('  - { id: w, step_type: wait, timeout: "{{ workflow.input.t }}" }'), {}, { t: 'later' }, { effects: effect }),
      /Step "w" failed \(wait\): timeout is "later", not a number of seconds/,
    );
  });

  it('an interpreter that cannot wait says so', async () => {
    await assert.rejects(run(steps('  - { id: w, step_type: wait }'), {}), /Step "w" failed \(wait\): this interpreter cannot wait for events/);
  });
});
