// The names the interpreter writes into a run's history, and how to read them back: one
// module, so that the workflow that writes them and the CLI that reads them (status, retry)
// cannot drift apart. These strings are part of every recorded history: changing what a
// builder returns breaks the replay of runs in flight. Sandbox code: pure string functions.

/** The activity that loads a run's definition from its source. */
export const LOAD_DEFINITION_ACTIVITY = 'load-definition';

const PIN_SUFFIX = '.definition';
const BATCH_INFIX = '.batch-';

/** An agent step's activity: its (qualified) step id. */
export function agentActivityId(stepId: string): string {
  return stepId;
}

/** The activity that pins (loads) an `execute_workflow` step's child definition. */
export function pinActivityId(stepId: string): string {
  return `${stepId}${PIN_SUFFIX}`;
}

/** The step a pin activity is for; undefined when the activity is not a pin. */
export function pinnedStepOf(activityId: string): string | undefined {
  return activityId.endsWith(PIN_SUFFIX) && activityId.length > PIN_SUFFIX.length ? activityId.slice(0, -PIN_SUFFIX.length) : undefined;
}

const REPLY_INFIX = '.reply-';

/** The activity that continues an agent's task with the answer to its question (A2A input-required), round by round. */
export function replyActivityId(stepId: string, round: number): string {
  return `${stepId}${REPLY_INFIX}${round}`;
}

/** The step a reply activity continues, and its round; undefined when the activity is not one. */
export function repliedStepOf(activityId: string): { step: string; round: number } | undefined {
  const at = activityId.lastIndexOf(REPLY_INFIX);
  const round = at > 0 ? activityId.slice(at + REPLY_INFIX.length) : '';
  return /^[1-9][0-9]*$/.test(round) ? { step: activityId.slice(0, at), round: Number(round) } : undefined;
}

/** An `execute_workflow` step's child workflow. */
export function childWorkflowId(workflowId: string, stepId: string): string {
  return `${workflowId}.${stepId}`;
}

/** Batch `index` of a large parallel step, a child workflow. */
export function batchWorkflowId(workflowId: string, stepId: string, index: number): string {
  return `${workflowId}.${stepId}${BATCH_INFIX}${index}`;
}

/** What a child workflow id of `workflowId` is: an `execute_workflow` step's child, or a batch of a parallel step. */
export function parseChildWorkflowId(workflowId: string, childId: string): { step: string; batch?: number } | undefined {
  if (!childId.startsWith(`${workflowId}.`)) return undefined;
  const rest = childId.slice(workflowId.length + 1);
  const at = rest.lastIndexOf(BATCH_INFIX);
  const index = at > 0 ? rest.slice(at + BATCH_INFIX.length) : '';
  // A step id may itself contain ".batch-": only a whole number after it marks a batch.
  if (/^(0|[1-9][0-9]*)$/.test(index)) return { step: rest.slice(0, at), batch: Number(index) };
  return { step: rest };
}

/** The run an agent call continues (its Idempotency-Key's stem): the first run of the workflow id. */
export function callsOfRun(workflowId: string, firstExecutionRunId: string): string {
  return `${workflowId}/${firstExecutionRunId}`;
}

/** A step's call id (the agent's Idempotency-Key), and the `callsOf` of an `execute_workflow` step's child. */
export function callId(callsOf: string, stepId: string): string {
  return `${callsOf}/${stepId}`;
}

/** The step id as written in the definition: a loop body step runs as `<loop>[<i>].<step>`. */
export function writtenStepId(qualifiedId: string): string {
  const at = qualifiedId.lastIndexOf('].');
  return at >= 0 ? qualifiedId.slice(at + 2) : qualifiedId;
}

/** The outermost step an id belongs to: a loop body step's loop (`loop[3].b` -> `loop`), else the id itself. */
export function outermostStepId(qualifiedId: string): string {
  const at = qualifiedId.indexOf('[');
  return at > 0 && qualifiedId.includes('].') ? qualifiedId.slice(0, at) : qualifiedId;
}

/** Every step id in some steps, at any depth (containers' steps, branches, fallbacks), not inside inputs. */
export function stepIdsIn(steps: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const fields = value as Record<string, unknown>;
      if (typeof fields.id === 'string') ids.add(fields.id);
      for (const [k, v] of Object.entries(fields)) if (k !== 'inputs') visit(v);
    }
  };
  visit(steps);
  return ids;
}

/**
 * The offers that belong to a batch of a parallel step: those of its branches' steps (and of
 * loop iterations inside them); undefined when there are none, so the batch's input is as before.
 */
export function offersForSteps<T>(offers: Record<string, T> | undefined, steps: unknown): Record<string, T> | undefined {
  if (!offers) return undefined;
  const ids = stepIdsIn(steps);
  const mine = Object.entries(offers).filter(([id]) => ids.has(id) || ids.has(outermostStepId(id)));
  return mine.length ? Object.fromEntries(mine) : undefined;
}
