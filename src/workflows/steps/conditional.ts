// conditional: a truthy condition (Python's sense: null, false, 0, "", [] and {} are false)
// runs `branches.if_true`, anything else `branches.if_false`; a missing branch runs nothing.
// The condition may be a `${{ }}` expression: one that cannot be evaluated fails this step.
import { isTruthy } from '../../dsl/templates';
import type { ConditionalStep, SwitchStep } from '../../dsl/types';
import { resolveOrFail } from './failures';
import { inside, type Scope, type StepRunner, type Walker } from './types';

export const runConditional: StepRunner<ConditionalStep> = async (walker, step, scope) => {
  const value = resolveCondition(walker, step, scope);
  const branch = isTruthy(value) ? 'if_true' : 'if_false';
  const steps = step.branches[branch] ?? [];
  walker.noteContainer(step.id, { step_type: 'conditional', value, branch: step.branches[branch] ? branch : null, steps: steps.map((s) => s.id) });
  await walker.runSteps(steps, inside(scope, step.id, { inBranch: true }));
};

/**
 * The value of a conditional's or switch's condition. An expression that fails ends the run
 * with a non-retryable ExpressionError naming this step, the expression and the reason.
 */
export function resolveCondition(walker: Walker, step: ConditionalStep | SwitchStep, scope: Scope): unknown {
  return resolveOrFail(step, scope, 'condition', () => walker.resolve(step.condition));
}
