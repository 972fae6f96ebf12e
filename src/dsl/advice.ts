// Warnings about definitions that are valid but likely not what their author means, or that
// cannot finish in one Temporal history. `pallet lint` prints them; they never stop a run.
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { checkExpression, expressionOf } from './expressions';
import { durationMs } from './durations';
import type { Step, WaitStep, WorkflowDefinition } from './types';
import type { FieldPath, Problem } from './validate';

/** Temporal ends a run whose history reaches this many events. */
export const HISTORY_EVENT_LIMIT = 51_200;
/** Events one call records: its activity (scheduled, started, completed) and a workflow task (3). */
const EVENTS_PER_CALL = 6;
/** A child workflow step: the pinning activity, the child (initiated, started, completed), their tasks. */
const EVENTS_PER_CHILD = 12;
/** A timer of a sleep or wait step: started, fired, and the workflow task it wakes. */
const EVENTS_PER_TIMER = 5;
/** The run's own start and end, and loading its definition. */
const EVENTS_PER_RUN = 12;

export function adviseDefinition(def: WorkflowDefinition): Problem[] {
  const advice: Problem[] = [];
  visit(def.steps, ['steps'], false, advice);
  const events = EVENTS_PER_RUN + historyEvents(def.steps);
  if (events > HISTORY_EVENT_LIMIT * 0.9) {
    advice.push({
      path: ['steps'],
      message: `a run of this workflow records about ${events} history events, and Temporal ends a run at ${HISTORY_EVENT_LIMIT} (about ${Math.floor((HISTORY_EVENT_LIMIT - EVENTS_PER_RUN) / EVENTS_PER_CALL)} agent steps): split it into workflows run by execute_workflow`,
    });
  }
  return advice;
}

function visit(steps: Step[], at: FieldPath, inBranch: boolean, advice: Problem[], inCompensate = false): void {
  steps.forEach((step, i) => {
    const path = [...at, i];
    if (step.step_type === 'sequential') {
      if (inBranch && step.outputs) {
        advice.push({ path: [...path, 'outputs'], message: `step "${step.id}": \`outputs\` is ignored directly inside a conditional or switch branch (as in Pallet): the bare result is stored` });
      }
      if (step.on_error) visit(step.on_error, [...path, 'on_error'], false, advice, inCompensate);
      if (step.compensate) visit(step.compensate, [...path, 'compensate'], false, advice, true);
      return;
    }
    if (step.step_type === 'sleep') return;
    if (step.step_type === 'wait') adviseWait(step, path, inCompensate, advice);
    if (step.step_type === 'switch') adviseBoolSwitch(step.condition, step.branches, path, step.id, advice);
    for (const [name, branch] of Object.entries((step.branches ?? {}) as Record<string, Step[] | undefined>)) {
      // Only conditional and switch branches keep Pallet's bare results.
      if (branch) visit(branch, [...path, 'branches', name], step.step_type === 'conditional' || step.step_type === 'switch', advice, inCompensate);
    }
  });
}

/** Wait steps that cannot be answered, branches that cannot run, and outcomes that change nothing. */
function adviseWait(step: WaitStep, path: FieldPath, inCompensate: boolean, advice: Problem[]): void {
  const timeoutMs = durationMs(step.timeout);
  if (timeoutMs === 0) {
    advice.push({ path: [...path, 'timeout'], message: `step "${step.id}": a timeout of 0 times out at once: the wait can never be answered` });
  }
  if (step.timeout === undefined && step.branches?.timed_out) {
    advice.push({ path: [...path, 'branches', 'timed_out'], message: `step "${step.id}": the timed_out branch can never run: the wait has no timeout` });
  }
  if (inCompensate && step.timeout === undefined) {
    advice.push({ path: [...path, 'timeout'], message: `step "${step.id}": compensation runs while the run is failing or being cancelled, and no one may be there to answer: give the wait a timeout` });
  }
  if (!step.branches || Object.values(step.branches).every((b) => !b || b.length === 0)) {
    advice.push({
      path: [...path, 'branches'],
      message: `step "${step.id}": the wait has no outcome branches, so the run goes on alike whether approved, rejected or timed out: add branches (approved, rejected, timed_out) or read steps.${step.id}.outputs.outcome`,
    });
  }
}

/** A switch on a bool expression selects "True" or "False" (Python's str()): say so when it has neither branch. */
function adviseBoolSwitch(condition: string, branches: Record<string, unknown>, path: FieldPath, id: string, advice: Problem[]): void {
  const text = expressionOf(condition);
  if (text === undefined) return;
  const checked = checkExpression(text);
  const has = (name: string) => Object.prototype.hasOwnProperty.call(branches, name);
  if (!checked.ok || checked.type !== 'bool' || has('True') || has('False')) return;
  advice.push({
    path: [...path, 'condition'],
    message: `step "${id}": the condition is a bool, which selects branch "True" or "False" (as Pallet writes a bool), and this switch has neither: use a conditional step, or an expression giving a branch name (\`c ? 'a' : 'b'\`)`,
  });
}

/** History events of the longest way through the steps (the largest branch of each choice). */
function historyEvents(steps: Step[]): number {
  let total = 0;
  for (const step of steps) {
    if (step.step_type === 'sequential') total += step.skill === EXECUTE_WORKFLOW_SKILL ? EVENTS_PER_CHILD : EVENTS_PER_CALL;
    else if (step.step_type === 'parallel') total += historyEvents(step.branches.steps);
    // A timer (started, fired) and its workflow task; a wait adds the accepted and completed update.
    else if (step.step_type === 'sleep') total += EVENTS_PER_TIMER;
    else if (step.step_type === 'wait') total += EVENTS_PER_TIMER + 2 + Math.max(0, ...Object.values(step.branches ?? {}).map((b) => historyEvents(b ?? [])));
    else total += Math.max(0, ...Object.values(step.branches as Record<string, Step[] | undefined>).map((b) => historyEvents(b ?? [])));
  }
  return total;
}
