// sequential: resolve the inputs, call the skill's agent (or run the named workflow for
// `execute_workflow`), store the result — under `{ [outputs]: result }` when the step names
// its outputs, except directly inside a conditional or switch branch, where Pallet stores the
// bare result.
import { ApplicationFailure } from '@temporalio/common';
import { EXECUTE_WORKFLOW_SKILL, FailureTypes, type StepFailureDetails } from '../../contract';
import type { SequentialStep } from '../../dsl/types';
import type { Scope, StepRunner, Walker } from './types';

export const runSequential: StepRunner<SequentialStep> = async (walker, step, scope) => {
  const reused = walker.completedOutput(step.id);
  if (reused) {
    walker.finish(step.id, reused.stored, scope);
    return;
  }
  const inputs = walker.resolve(step.inputs) as Record<string, unknown>;
  const offered = walker.offeredResult(step, inputs);
  let result: unknown;
  try {
    if (offered) result = offered.result;
    else result = step.skill === EXECUTE_WORKFLOW_SKILL ? await runChild(walker, step, inputs) : await walker.effects.callAgent({ step, inputs });
  } catch (err) {
    throw stepFailure(step, scope, walker.effects.describeError(err, step), err);
  }
  walker.finish(step.id, step.outputs && !scope.inBranch ? { [step.outputs]: result } : result, scope);
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

function stepFailure(step: SequentialStep, scope: Scope, reason: string, cause: unknown): ApplicationFailure {
  const { within } = scope;
  const where = within.length > 0 ? ` (in ${within.map((id) => `"${id}"`).join(' > ')})` : '';
  const details: StepFailureDetails = { stepId: step.id, skill: step.skill, within, reason };
  return ApplicationFailure.create({
    message: `Step "${step.id}"${where} failed (skill ${step.skill}): ${reason}`,
    type: FailureTypes.stepFailed,
    nonRetryable: true,
    details: [details],
    cause: cause instanceof Error ? cause : undefined,
  });
}
