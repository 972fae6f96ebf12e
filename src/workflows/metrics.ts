// What the interpreter tells operators about steps: a counter of finished steps by type and outcome,
// counters of wait steps starting and ending (their difference is how many wait now), a log line
// for a failed step, and a span per step when tracing is on. Through the SDK's workflow `metricMeter`
// and `log` and OpenTelemetry's API: none emits a command, and none emits during replay, so a history
// replays the same with or without them. Outside a workflow (the walker's unit tests drive it with
// plain effects) they do nothing.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { MetricCounter } from '@temporalio/common';
import { inWorkflowContext, log, metricMeter } from '@temporalio/workflow';
import type { Step } from '../dsl/types';
import type { Effects } from './steps/types';

/** How a step ended: `continued` is a generation ending under it (continue-as-new), not a result. */
export type StepOutcome = 'completed' | 'failed' | 'cancelled' | 'continued';

let counters: { steps: MetricCounter; waitsStarted: MetricCounter; waitsEnded: MetricCounter } | undefined;

function meters() {
  // Created lazily, inside the workflow context the meter needs; labels stay bounded (no ids).
  counters ??= {
    steps: metricMeter.createCounter('pallet_steps', 'steps', 'Steps finished, by step_type and outcome'),
    waitsStarted: metricMeter.createCounter('pallet_waits_started', 'waits', 'Wait steps that started waiting for their event'),
    waitsEnded: metricMeter.createCounter('pallet_waits_ended', 'waits', 'Wait steps that stopped waiting (event, timeout or cancellation)'),
  };
  return counters;
}

/** How a step ended, from what it threw (`failure` absent: it finished). */
export function stepOutcome(failure: { error: unknown } | undefined, effects: Pick<Effects, 'isGenerationEnd' | 'isCancellation'>): StepOutcome {
  if (!failure) return 'completed';
  if (effects.isGenerationEnd(failure.error)) return 'continued';
  return effects.isCancellation(failure.error) ? 'cancelled' : 'failed';
}

/** A step of the walker ended (its id qualified inside loops), having thrown `failure.error` if it failed. */
export function noteStepEnd(
  step: Step,
  id: string,
  failure: { error: unknown } | undefined,
  effects: Pick<Effects, 'isGenerationEnd' | 'isCancellation'>,
): void {
  if (!inWorkflowContext()) return;
  const outcome = stepOutcome(failure, effects);
  if (outcome === 'continued') return;
  meters().steps.add(1, { step_type: step.step_type, outcome });
  if (outcome === 'failed') {
    // The SDK adds the workflow id, run id and type to every workflow log line.
    const error = failure!.error;
    log.warn('step failed', { step: id, stepType: step.step_type, error: error instanceof Error ? error.message : String(error) });
  }
}

/** A wait step's waiting changed (noteWaiting): counted once when it starts, once when it ends. */
export function noteWaitChange(wasWaiting: boolean, isWaiting: boolean): void {
  if (!inWorkflowContext() || wasWaiting === isWaiting) return;
  (isWaiting ? meters().waitsStarted : meters().waitsEnded).add(1, { kind: 'event' });
}

/**
 * Runs a step inside a span of its own when tracing is on (the interceptors register a tracer in the
 * sandbox, src/workflows/interceptors.ts; otherwise the API's no-op tracer), so the spans of its agent
 * calls and child workflows are its children. The step's own promise is returned as is: awaiting it
 * takes the same turns as before, so commands keep their order.
 */
export function traceStep(step: Step, id: string, effects: Pick<Effects, 'isGenerationEnd'>, run: () => Promise<void>): Promise<void> {
  if (!inWorkflowContext()) return run();
  // Named by the declared id (bounded); the qualified id (loop iterations) is an attribute.
  return trace
    .getTracer('pallet-workflow')
    .startActiveSpan(`Step:${step.id}`, { attributes: { 'pallet.step': id, 'pallet.step_type': step.step_type } }, (span) => {
      const running = run();
      running.then(
        () => span.end(),
        (error: unknown) => {
          if (!effects.isGenerationEnd(error)) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
          span.end();
        },
      );
      return running;
    });
}
