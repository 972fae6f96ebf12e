// The progress of a followed run (src/cli/progress.ts): given states, the counts and lines.
import assert from 'node:assert/strict';
import type { RunState } from '../../../src/contract';
import { lineDisplay, groupLine, runProgress, someIds, stepCount } from '../../../src/cli/progress';
import { PALLET_WORKFLOW_TYPE } from '../../../src/client';
import { palletWorkflow } from '../../../src/workflows';

/** A run of `prepare`, a 200-item for_each `review_all` of two steps (review, scan), then `report`. */
function batchState(doneIterations: number, running: number[], opts: { recovered?: number[]; finishedLoop?: boolean } = {}): RunState {
  const finished = ['prepare'];
  for (let i = 0; i < doneIterations; i++) finished.push(`review_all[${i}].review`, `review_all[${i}].scan`);
  // An iteration under way has finished its first step.
  for (const i of running) finished.push(`review_all[${i}].review`);
  if (opts.finishedLoop) finished.push('review_all');
  return {
    status: 'running',
    workflow: { id: 'batch-review-v1', name: 'Batch Review', version: '1.0.0' },
    running: opts.finishedLoop ? ['report'] : ['review_all', ...running.map((i) => `review_all[${i}].scan`)],
    finished,
    reused: [],
    step_outputs: {},
    containers: { review_all: { step_type: 'for_each', items: 200, steps: ['review', 'scan'] } },
    pinned: {},
    recovered: Object.fromEntries((opts.recovered ?? []).map((i) => [`review_all[${i}].scan`, 'continue_on_error' as const])),
  };
}

describe('run progress', () => {
  it('counts a loop by iteration: done, running, failed, out of its items', () => {
    const progress = runProgress(batchState(57, [57, 58, 59], { recovered: [3] }));
    assert.deepEqual(progress.groups, [
      { id: 'review_all', kind: 'for_each', unit: 'iterations', total: 200, done: 57, running: 3, failed: 1, finished: false },
    ]);
    assert.deepEqual(progress.finishedOther, ['prepare']);
    assert.deepEqual(progress.runningNow, ['review_all[57].scan', 'review_all[58].scan', 'review_all[59].scan']);
  });

  it('a loop line says how far along, how many fail and what is left; never the ids', () => {
    const [group] = runProgress(batchState(50, [50, 51], { recovered: [7] })).groups;
    assert.equal(groupLine(group, 20_000), 'review_all: 50/200 done, 2 running, 1 failed (20 s, about 1 min 0 s left)');
  });

  it('counts a wide parallel step by branch, inside a loop with the iteration prefix', () => {
    const state = batchState(0, []);
    state.containers = { 'outer[2].fan': { step_type: 'parallel', steps: ['a', 'b', 'c', 'd', 'e', 'f'] } };
    state.finished = ['outer[2].a', 'outer[2].b'];
    state.running = ['outer[2].fan', 'outer[2].c', 'outer[2].d'];
    assert.deepEqual(runProgress(state).groups, [
      { id: 'outer[2].fan', kind: 'parallel', unit: 'branches', total: 6, done: 2, running: 2, failed: 0, finished: false },
    ]);
  });

  it('plain lines: one per update and per changed count, none when nothing changed, and no id lists', () => {
    const lines: string[] = [];
    let t = 0;
    const display = lineDisplay(
      (l) => lines.push(l),
      () => t,
    );
    display.update(batchState(0, [0, 1, 2]));
    t = 10_000;
    display.update(batchState(20, [20, 21, 22]));
    display.update(batchState(20, [20, 21, 22]));
    t = 60_000;
    display.update(batchState(200, [], { finishedLoop: true }));
    assert.deepEqual(lines, [
      'review_all: 0/200 done, 3 running (0 s)',
      '1 step done (latest: prepare); running: -',
      'review_all: 20/200 done, 3 running (10 s, about 1 min 30 s left)',
      'review_all: 200/200 done, 0 running, finished (1 min 0 s)',
      '1 step done (latest: prepare); running: report',
    ]);
    assert.ok(lines.every((l) => !l.includes('review_all[')));
    assert.equal(display.stop()?.finished.length, 402);
  });

  it("the summary counts the run's steps and each loop's iterations", () => {
    assert.equal(stepCount(['only'], undefined), '1 step');
    assert.equal(stepCount(['prepare', 'review_all', 'report'], batchState(200, [], { finishedLoop: true })), '3 steps (review_all: 200 iterations)');
    // Last seen part way: the run completed, so the loop in its result ran every item.
    assert.equal(stepCount(['prepare', 'review_all', 'report'], batchState(150, [150])), '3 steps (review_all: 200 iterations)');
  });

  it('counts sleeps, which finish without outputs (passed), as done', () => {
    const state = batchState(0, []);
    state.containers = { naps: { step_type: 'for_each', items: 20, steps: ['nap'] } };
    state.finished = [];
    state.passed = ['naps[0].nap', 'naps[1].nap'];
    state.running = ['naps', 'naps[2].nap'];
    assert.equal(groupLine(runProgress(state).groups[0]), 'naps: 2/20 done, 1 running');
  });

  it('a few ids, then how many more', () => {
    assert.equal(someIds(['a', 'b', 'c', 'd', 'e']), 'a, b, c +2 more');
    assert.equal(someIds([]), '-');
  });

  it('the client names the workflow type the worker registers', () => {
    assert.equal(PALLET_WORKFLOW_TYPE, palletWorkflow.name);
  });
});
