// The hint after a failed run suggests only what can work: a plain retry when the agent's
// side failed, a retry with a changed input or definition when the same input fails again.
import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { failureOf } from '../../../src/client';
import { failureHint } from '../../../src/cli/run';
import { FailureTypes } from '../../../src/contract';

/** A failed run as the client sees it: StepFailed, caused by an activity failure of `type`. */
function failedRun(type: string): WorkflowFailedError {
  const agentError = ApplicationFailure.create({ message: 'agent said no', type });
  const activity = new ActivityFailure('activity failed', 'callAgent', 'a1', RetryState.NON_RETRYABLE_FAILURE, 'worker', agentError);
  const step = ApplicationFailure.create({
    message: 'Step "s" failed',
    type: FailureTypes.stepFailed,
    nonRetryable: true,
    details: [{ stepId: 's', skill: 'summarize', within: [], reason: 'agent said no' }],
    cause: activity,
  });
  return new WorkflowFailedError('Workflow execution failed', step, RetryState.NON_RETRYABLE_FAILURE);
}

const hint = (type: string) => failureHint(failureOf(failedRun(type)), 'wf-1') ?? '';

describe('failure hints', () => {
  it('reads the innermost failure type under the failed step', () => {
    const f = failureOf(failedRun(FailureTypes.agentTimeout));
    assert.equal(f.type, FailureTypes.stepFailed);
    assert.equal(f.causeType, FailureTypes.agentTimeout);
    assert.equal(f.step?.stepId, 's');
  });

  it('an agent that was down or slow: retry as it is', () => {
    for (const type of [FailureTypes.agentUnavailable, FailureTypes.agentServerError, FailureTypes.agentTimeout]) {
      assert.equal(hint(type), 'when the agent answers again: npx pallet retry wf-1 (finished steps are not run again)');
    }
  });

  it('an input the agent refuses: retry with a changed input or definition, never as it is', () => {
    for (const type of [FailureTypes.agentRejected, FailureTypes.invalidInput, FailureTypes.inputTooLarge, FailureTypes.agentBadResponse]) {
      assert.match(hint(type), /^the same input fails the same way: npx pallet retry wf-1 --input '\{\.\.\.\}' or --file FIXED\.yaml/);
    }
  });

  it('a skill no agent offers: publish one or fix the step', () => {
    assert.match(hint(FailureTypes.unknownSkill), /^publish an agent card with skill "summarize" .*npx pallet retry wf-1 --file FIXED\.yaml$/);
  });

  it('anything else: fix the cause, with both ways to retry', () => {
    assert.match(hint(FailureTypes.agentSkillError), /^fix the cause, then: npx pallet retry wf-1 .*--input/);
    assert.match(failureHint({ message: 'x', type: FailureTypes.definitionLoadFailed }, 'wf-1') ?? '', /pallet lint/);
  });
});
