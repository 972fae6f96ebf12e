// repeat: runs its `steps` again and again until `until` holds after an iteration, at most
// `max_iterations` times (the refine-until-good pattern). An iteration's steps see the
// previous iteration's outputs until they run again, and `index`. The step's output is
// `{ result, iterations, until_met }`: the last iteration's last step output, how many ran,
// and whether the condition ended the loop (false: it stopped at max_iterations).
import { isTruthy } from '../../dsl/templates';
import type { RepeatStep } from '../../dsl/types';
import { resolveOrFail } from './failures';
import { inside, storedOutput, type StepRunner } from './types';

export const runRepeat: StepRunner<RepeatStep> = async (walker, step, scope) => {
  const reused = walker.completedOutput(step.id);
  if (reused) {
    walker.finish(step.id, reused.stored, scope);
    return;
  }
  const last = step.steps[step.steps.length - 1];
  let outputs: Record<string, unknown> = {};
  let result: unknown = null;
  let iterations = 0;
  let untilMet = false;
  while (iterations < step.max_iterations && !untilMet) {
    const iteration = walker.iteration(step.id, iterations, null, outputs);
    await iteration.runSteps(step.steps, inside(scope, `${step.id}[${iterations}]`, { inBranch: false, record: () => undefined }));
    iterations++;
    walker.noteContainer(step.id, { step_type: 'repeat', steps: step.steps.map((s) => s.id), iterations });
    result = iteration.outputOf(last.id) ?? null;
    outputs = iteration.loop.outputs;
    untilMet = isTruthy(resolveOrFail(step, scope, `until (after iteration ${iterations - 1})`, () => iteration.resolve(step.until)));
  }
  const value = { result, iterations, until_met: untilMet };
  walker.finish(step.id, storedOutput(step, scope, value), scope);
};
