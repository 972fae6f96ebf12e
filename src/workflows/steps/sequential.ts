// sequential: resolve the inputs, call the skill's agent (or run the named workflow for
// `execute_workflow`), store the result — under `{ [outputs]: result }` when the step names
// its outputs, except directly inside a conditional or switch branch, where Pallet stores the
// bare result.
import { ApplicationFailure } from '@temporalio/common';
import { EXECUTE_WORKFLOW_SKILL, FailureTypes, stepKey } from '../../contract';
import type { SequentialStep } from '../../dsl/types';
import { recover, retrySettings } from './errors';
import { resolveOrFail, stepFailure } from './failures';
import { inside, storedOutput, type Scope, type StepRunner, type Walker } from './types';

export const runSequential: StepRunner<SequentialStep> = async (walker, step, scope) => {
  const reused = walker.completedOutput(step.id);
  if (reused) {
    // A step its on_error steps stood in for: they are recorded again, before it, as they ran.
    if (step.on_error && walker.wasFinished(step.on_error[0].id)) await walker.runSteps(step.on_error, inside(scope, step.id, { inBranch: false }));
    walker.finish(step.id, reused.stored, scope);
    if (step.compensate) walker.noteCompensable(step);
    return;
  }
  const inputs = resolveInputs(walker, step, scope);
  const offered = walker.offeredResult(step, inputs);
  // Carried from an earlier generation of the retried run: taken as it was stored.
  if (offered && 'stored' in offered) {
    walker.noteKey(step.id, offered.key);
    walker.finish(step.id, offered.stored, scope);
    if (step.compensate) walker.noteCompensable(step);
    return;
  }
  const retry = retrySettings(walker, step);
  let result: unknown;
  if (!offered) await walker.effects.beforeCall();
  try {
    if (offered) result = offered.result;
    else if (step.skill === EXECUTE_WORKFLOW_SKILL) result = await runChild(walker, step, inputs);
    else result = await walker.effects.callAgent(retry ? { step, inputs, retry } : { step, inputs });
  } catch (err) {
    // Described with the retry settings in force (a deadline may come from error_handling).
    const reason = walker.effects.describeError(err, retry ? { ...step, retry } : step);
    // on_error or continue_on_error may stand in for the result; otherwise the step fails.
    await recover(walker, step, scope, stepFailure(step, scope, reason, { cause: err }), err, reason);
    return;
  }
  walker.noteKey(step.id, offered?.key ?? stepKey(step, inputs));
  walker.finish(step.id, storedOutput(step, scope, result), scope, { value: result });
  if (step.compensate) walker.noteCompensable(step);
};

/** `execute_workflow`: the child's definition is pinned once, then it runs as a child workflow. */
async function runChild(walker: Walker, step: SequentialStep, inputs: Record<string, unknown>): Promise<unknown> {
  const workflowId = inputs.workflow_id;
  if (typeof workflowId !== 'string' || workflowId === '') {
    throw ApplicationFailure.nonRetryable('input "workflow_id" must name a workflow', FailureTypes.invalidInput);
  }
  const call = { step, workflowId, input: (inputs.input ?? {}) as Record<string, unknown> };
  const pinned = await walker.effects.pinWorkflow?.({ ...call, digest: walker.pinnedSource(step.id)?.digest });
  if (pinned) walker.notePinned(step.id, pinned.source);
  return walker.effects.runWorkflow({ ...call, pinned });
}

/**
 * The step's inputs, resolved. A `${{ }}` expression that fails ends the run with a
 * non-retryable ExpressionError naming this step (on_error and continue_on_error do not
 * apply: the definition or the data it reads must change).
 */
function resolveInputs(walker: Walker, step: SequentialStep, scope: Scope): Record<string, unknown> {
  return resolveOrFail(step, scope, 'input', () => walker.resolve(step.inputs) as Record<string, unknown>);
}
