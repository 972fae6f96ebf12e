// sleep: the run waits for `duration` (seconds, or text such as "90s", "2h") or until the
// RFC 3339 time `until`, on a durable timer: a worker may stop meanwhile, and the run goes on
// when the time comes. Either may be a template or an expression resolved when the step
// runs; a value that is not a duration or a time fails the step. It records no output.
import { DURATION_HELP, durationMs, TIME_HELP, timeMs } from '../../dsl/durations';
import type { SleepStep, WaitStep } from '../../dsl/types';
import { resolveOrFail, stepFailure } from './failures';
import type { Scope, StepRunner, Walker } from './types';

export const runSleep: StepRunner<SleepStep> = async (walker, step, scope) => {
  const sleep = walker.effects.sleep;
  if (!sleep) throw stepFailure(step, scope, 'this interpreter has no timers');
  // Slept in an earlier generation of this run (continue-as-new): not again.
  if (walker.wasFinished(step.id)) return;
  if (step.until !== undefined) {
    const value = resolveSetting(walker, step, scope, 'until', step.until);
    const until = timeMs(value);
    if (until === undefined) throw stepFailure(step, scope, `until is ${JSON.stringify(value)}, not ${TIME_HELP}`);
    await sleep({ step, until });
  } else {
    await sleep({ step, ms: durationSetting(walker, step, scope, 'duration', step.duration) });
  }
  walker.notePassed(step.id);
};

/** A duration field's value in milliseconds, resolved when the step runs. */
export function durationSetting(walker: Walker, step: SleepStep | WaitStep, scope: Scope, field: string, raw: unknown): number {
  const value = resolveSetting(walker, step, scope, field, raw);
  const ms = durationMs(value);
  if (ms === undefined) throw stepFailure(step, scope, `${field} is ${JSON.stringify(value)}, not ${DURATION_HELP}`);
  return ms;
}

/** A field's value with its templates and expressions resolved; an expression that fails fails the step. */
export function resolveSetting(walker: Walker, step: SleepStep | WaitStep, scope: Scope, field: string, raw: unknown): unknown {
  return resolveOrFail(step, scope, field, () => walker.resolve(raw));
}
