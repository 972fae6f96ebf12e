// How a step fails: one message shape for every step type, `Step "id" (in "outer" > "inner")
// failed (what): reason`, with StepFailureDetails for the CLI and `pallet retry`. Never retried:
// retrying a workflow's decision cannot change it.
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, type StepFailureDetails } from '../../contract';
import { ExpressionError, showExpression } from '../../dsl/expressions';
import type { Scope } from './types';

/** The step a failure is about: its id, and its skill when it calls one. */
interface FailingStep {
  id: string;
  skill?: string;
  step_type?: string;
}

const isCall = (step: FailingStep) => step.skill !== undefined && (step.step_type === undefined || step.step_type === 'sequential');

/** `skill <name>` for a call step, else its step type. */
function what(step: FailingStep): string {
  return isCall(step) ? `skill ${step.skill}` : String(step.step_type);
}

function message(step: FailingStep, scope: Scope, reason: string): string {
  const where = scope.within.length > 0 ? ` (in ${scope.within.map((id) => `"${id}"`).join(' > ')})` : '';
  return `Step "${step.id}"${where} failed (${what(step)}): ${reason}`;
}

function details(step: FailingStep, scope: Scope, reason: string): StepFailureDetails {
  return { stepId: step.id, ...(isCall(step) ? { skill: step.skill } : {}), within: scope.within, reason };
}

/** The step failed (StepFailed unless `type` says otherwise), not retried; `cause` kept for the history. */
export function stepFailure(step: FailingStep, scope: Scope, reason: string, opts: { type?: string; cause?: unknown } = {}): ApplicationFailure {
  return ApplicationFailure.create({
    message: message(step, scope, reason),
    type: opts.type ?? FailureTypes.stepFailed,
    nonRetryable: true,
    details: [details(step, scope, reason)],
    cause: opts.cause instanceof Error ? opts.cause : undefined,
  });
}

/** An expression in the step's `field` (input, condition, items, until...) could not be evaluated. */
export function expressionFailure(step: FailingStep, scope: Scope, field: string, err: ExpressionError): ExpressionError {
  const reason = `${field} ${showExpression(err.expression)}: ${err.reason}`;
  return new ExpressionError(err.expression, err.reason, message(step, scope, reason), [details(step, scope, reason)]);
}

/** `resolve()`, with an expression that fails turned into the step's failure. */
export function resolveOrFail<T>(step: FailingStep, scope: Scope, field: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (err instanceof ExpressionError) throw expressionFailure(step, scope, field, err);
    throw err;
  }
}
