// Warnings about definitions that are valid but likely not what their author means, or that
// cannot finish in one Temporal history. `pallet lint` prints them; they never stop a run.
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { checkExpression, expressionOf } from './expressions';
import type { Step, WorkflowDefinition } from './types';
import type { FieldPath, Problem } from './validate';

/** Temporal ends a run whose history reaches this many events. */
export const HISTORY_EVENT_LIMIT = 51_200;
/** Events one call records: its activity (scheduled, started, completed) and a workflow task (3). */
const EVENTS_PER_CALL = 6;
/** A child workflow step: the pinning activity, the child (initiated, started, completed), their tasks. */
const EVENTS_PER_CHILD = 12;
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

function visit(steps: Step[], at: FieldPath, inBranch: boolean, advice: Problem[]): void {
  steps.forEach((step, i) => {
    const path = [...at, i];
    if (step.step_type === 'sequential') {
      if (inBranch && step.outputs) {
        advice.push({ path: [...path, 'outputs'], message: `step "${step.id}": \`outputs\` is ignored directly inside a conditional or switch branch (as in Pallet): the bare result is stored` });
      }
      return;
    }
    if (step.step_type === 'switch') adviseBoolSwitch(step.condition, step.branches, path, step.id, advice);
    for (const [name, branch] of Object.entries(step.branches as Record<string, Step[] | undefined>)) {
      if (branch) visit(branch, [...path, 'branches', name], step.step_type !== 'parallel', advice);
    }
  });
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
    else total += Math.max(0, ...Object.values(step.branches as Record<string, Step[] | undefined>).map((b) => historyEvents(b ?? [])));
  }
  return total;
}
