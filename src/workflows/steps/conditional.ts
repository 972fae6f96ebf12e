// conditional: a truthy condition (Python's sense: null, false, 0, "", [] and {} are false)
// runs `branches.if_true`, anything else `branches.if_false`; a missing branch runs nothing.
import { isTruthy } from '../../dsl/templates';
import type { ConditionalStep } from '../../dsl/types';
import { inside, type StepRunner } from './types';

export const runConditional: StepRunner<ConditionalStep> = async (walker, step, scope) => {
  const value = walker.resolve(step.condition);
  const branch = isTruthy(value) ? 'if_true' : 'if_false';
  const steps = step.branches[branch] ?? [];
  walker.noteContainer(step.id, { step_type: 'conditional', value, branch: step.branches[branch] ? branch : null, steps: steps.map((s) => s.id) });
  await walker.runSteps(steps, inside(scope, step.id, { inBranch: true }));
};
