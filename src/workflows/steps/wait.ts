// wait: the run waits for a named event (`event`, default the step id), such as a person's
// approval sent with `pallet approve`, or until its `timeout`. Its output, visible to later
// steps as `steps.<id>.outputs` and recorded in the run's `step_outputs` (as it finishes, before
// its branch's steps), is `{outcome, data, by}`; then the branch named by the outcome runs
// (`approved`, `rejected`, `timed_out`; a missing one runs nothing). A run that already has
// the step's output (carried into a new history, or given as `completed`) takes it instead
// of waiting again.
import type { WaitOutput } from '../../contract';
import type { WaitStep } from '../../dsl/types';
import { stepFailure } from './failures';
import { durationSetting } from './sleep';
import { inside, type StepRunner } from './types';

export const runWait: StepRunner<WaitStep> = async (walker, step, scope) => {
  let output: WaitOutput;
  const reused = walker.completedOutput(step.id);
  if (reused) {
    output = reused.stored as WaitOutput;
  } else {
    const waitForEvent = walker.effects.waitForEvent;
    if (!waitForEvent) throw stepFailure(step, scope, 'this interpreter cannot wait for events');
    const event = step.event ?? step.id;
    const timeoutMs = step.timeout === undefined ? undefined : durationSetting(walker, step, scope, 'timeout', step.timeout);
    try {
      output = await waitForEvent({ step, event, timeoutMs, onWaiting: (times) => walker.noteWaiting(step.id, { step: step.id, event, ...times }) });
    } finally {
      walker.noteWaiting(step.id);
    }
  }
  walker.finish(step.id, output, scope);
  const branch = step.branches?.[output.outcome];
  // Unlike a conditional's branches, `outputs` is honoured here: this is not a Pallet construct.
  if (branch) await walker.runSteps(branch, inside(scope, step.id, { inBranch: false }));
};
