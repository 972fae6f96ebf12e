// parallel: every step of `branches.steps` at once, each seeing only what ran before the
// parallel step. A failure cancels the others. Results are recorded in declaration order once
// all have finished, as Pallet does; the container itself records nothing.
import type { ParallelStep } from '../../dsl/types';
import { inside, type StepRunner } from './types';

export const runParallel: StepRunner<ParallelStep> = async (walker, step, scope) => {
  const steps = step.branches.steps;
  walker.noteContainer(step.id, { step_type: 'parallel', steps: steps.map((s) => s.id) });
  const recorded = steps.map(() => [] as [string, unknown][]);
  await walker.effects.all(
    steps.map((sub, i) => () => walker.runStep(sub, inside(scope, step.id, { inBranch: false, record: (id, stored) => recorded[i].push([id, stored]) }))),
  );
  for (const entries of recorded) for (const [id, stored] of entries) scope.record(id, stored);
};
