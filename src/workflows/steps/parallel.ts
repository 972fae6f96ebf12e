// parallel: every step of `branches.steps` at once, each seeing only what ran before the
// parallel step. A failure cancels the others. Results are recorded in declaration order once
// all have finished, as Pallet does; the container itself records nothing.
import type { ParallelStep, Step } from '../../dsl/types';
import { inside, type Scope, type StepRunner, type Walker } from './types';

/** Branches a parallel step runs itself at most; a larger one runs them in batches, each a child workflow. */
export const MAX_INLINE_BRANCHES = 1000;
/** Branches in one batch. */
export const BATCH_BRANCHES = 500;

export const runParallel: StepRunner<ParallelStep> = async (walker, step, scope) => {
  const steps = step.branches.steps;
  walker.noteContainer(step.id, { step_type: 'parallel', steps: steps.map((s) => s.id) });
  if (steps.length > MAX_INLINE_BRANCHES && (await runInBatches(walker, step, scope))) return;
  const recorded = steps.map(() => [] as [string, unknown][]);
  await walker.effects.all(
    steps.map((sub, i) => () => walker.runStep(sub, inside(scope, step.id, { inBranch: false, record: (id, stored) => recorded[i].push([id, stored]) }))),
  );
  for (const entries of recorded) for (const [id, stored] of entries) scope.record(id, stored);
};

/**
 * Thousands of branches in one workflow overwhelm its thread: run them as child workflows of
 * BATCH_BRANCHES each, all at once, and record what they recorded, batch after batch (so in
 * declaration order, as Pallet does). False when the interpreter runs them here instead.
 */
async function runInBatches(walker: Walker, step: ParallelStep, scope: Scope): Promise<boolean> {
  const runner = walker.effects.batches;
  if (!runner?.allowed()) return false;
  const batches: Step[][] = [];
  for (let i = 0; i < step.branches.steps.length; i += BATCH_BRANCHES) batches.push(step.branches.steps.slice(i, i + BATCH_BRANCHES));
  const context = walker.visibleOutputs();
  const results = await walker.effects.all(batches.map((branches, index) => () => runner.run({ step, index, branches, context })));
  for (const result of results) for (const [id, { outputs }] of Object.entries(result.step_outputs)) walker.finish(id, outputs, scope);
  return true;
}
