// Error handling of call steps: the retry settings a step runs with (its own over the
// workflow's `error_handling`), what happens when it fails after its retries (`on_error`
// fallback steps, or `continue_on_error`: an error value as its output), and compensation
// (`compensate` steps of the finished steps, latest first, when the run fails).
import { ApplicationFailure } from '@temporalio/common';
import type { RunState } from '../../contract';
import type { RetrySettings, SequentialStep } from '../../dsl/types';
import { inside, storedOutput, type Scope, type Walker } from './types';

/** The value a failed step leaves as its output (continue_on_error; on_error's steps read it). */
export interface StepError {
  error: { message: string; type: string | null; step: string };
}

/** A step's retry settings: its own, each over the workflow's defaults; undefined when neither gives any. */
export function retrySettings(walker: Walker, step: SequentialStep): RetrySettings | undefined {
  const defaults = walker.errorHandling?.retry;
  if (!defaults && !step.retry) return undefined;
  return { ...defaults, ...step.retry };
}

/**
 * A step failed after its retries: runs its `on_error` steps (the last one's result becomes
 * the step's), or records the error as its output (`continue_on_error`); otherwise, or when
 * the run is being cancelled, throws `failure`.
 */
export async function recover(walker: Walker, step: SequentialStep, scope: Scope, failure: ApplicationFailure, cause: unknown, reason: string): Promise<void> {
  const continueOnError = step.continue_on_error ?? walker.errorHandling?.continue_on_error ?? false;
  if (walker.effects.isCancellation(cause) || (!step.on_error && !continueOnError)) throw failure;
  const value: StepError = { error: { message: reason, type: walker.effects.failureType(cause) ?? null, step: step.id } };
  if (step.on_error) {
    // The fallback steps can read the error as `steps.<id>.outputs.error`.
    walker.setOutput(step.id, value);
    const before = walker.lastFinished;
    await walker.runSteps(step.on_error, inside(scope, step.id, { inBranch: false }));
    const last = walker.lastFinished !== before ? walker.lastFinished?.result : undefined;
    const result = last ? last.value : null;
    walker.noteRecovered(step.id, 'on_error');
    walker.finish(step.id, storedOutput(step, scope, result), scope, { value: result });
    return;
  }
  walker.noteRecovered(step.id, 'continue_on_error');
  walker.finish(step.id, value, scope);
}

/**
 * The run failed (or was cancelled) with `err`: runs the `compensate` steps of each finished
 * step that has them, latest first, even while the run is being cancelled. A compensation that
 * fails does not stop the others. Returns the error to end the run with: a step failure tells
 * what was compensated.
 */
export async function compensate(
  run: { readonly state: RunState; readonly effects: Walker['effects'] },
  finished: { step: SequentialStep; walker: Walker }[],
  err: unknown,
): Promise<unknown> {
  if (finished.length === 0) return err;
  const done: string[] = [];
  const failed: string[] = [];
  for (const { step, walker } of [...finished].reverse()) {
    const scope: Scope = { within: [step.id], inBranch: false, record: () => undefined };
    const work = () => walker.runSteps(step.compensate ?? [], scope);
    try {
      await run.effects.protect(work);
      done.push(step.id);
    } catch (e) {
      failed.push(`${step.id} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  run.state.compensated = done;
  if (!(err instanceof ApplicationFailure)) return err;
  const parts = [done.length ? `compensated ${done.join(', ')}` : '', failed.length ? `compensation failed for ${failed.join('; ')}` : ''].filter(Boolean);
  return ApplicationFailure.create({
    message: `${err.message} (${parts.join('; ')})`,
    type: err.type ?? undefined,
    nonRetryable: err.nonRetryable ?? undefined,
    details: err.details as unknown[] | undefined,
    cause: err.cause,
  });
}
