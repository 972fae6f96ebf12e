// A run as its history tells it, step by step: what `pallet status` shows when no worker can
// answer the `state` query (every closed run, and a running one whose worker is gone), and
// what `cancel` reads of a run's end. A projection of the fold (fold.ts).
import type { AskingStep, GenerationSize, StepFailureDetails, WaitingStep } from '../contract';
import type { RunResult } from '../dsl/types';
import { foldHistory, type Call, type History, type RunFold } from './fold';

export type StepState = 'scheduled' | 'running' | 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'terminated' | 'reused' | 'carried';

export interface StepView {
  id: string;
  /** agent: an agent call; workflow: an execute_workflow child; definition: a definition load; batch: a batch of a large parallel step. */
  kind: 'agent' | 'workflow' | 'definition' | 'batch';
  state: StepState;
  /** Attempts so far (the last started attempt; 0 while none started). */
  attempts: number;
  scheduled_at?: string;
  /** From scheduling to the close of the last attempt (or to now, while it runs). */
  duration_ms?: number;
  outputs?: unknown;
  /** The agent that answered. */
  agent?: string;
  error?: string;
}

export interface RunFailureView {
  message: string;
  type?: string;
  step?: StepFailureDetails;
}

/** A sleep step sleeping now: its timer fires at `until`. */
export interface SleepingStep {
  step: string;
  until: string;
}

export interface HistoryView {
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  start_time?: string;
  close_time?: string;
  duration_ms?: number;
  input?: Record<string, unknown>;
  steps: StepView[];
  /** Agent and workflow steps that finished, in the order they finished (carried and reused ones first). */
  finished: string[];
  running: string[];
  result?: RunResult;
  failure?: RunFailureView;
  /** When someone asked the run to stop (`pallet cancel`). */
  cancel_requested_at?: string;
  /** Earlier generations of the run (it continued as new), oldest first. */
  generations?: GenerationSize[];
  /** The first run of the workflow id (the first generation, when it continued as new). */
  first_run_id?: string;
  /** Wait steps waiting for their event (the run's `waiting` memo). */
  waiting?: WaitingStep[];
  /** Call steps whose agent asked a question, waiting for `pallet reply` (the run's `asking` memo). */
  asking?: Pick<AskingStep, 'step' | 'question' | 'since' | 'timeout_at'>[];
  /** Sleep steps sleeping (their timers not yet fired). */
  sleeping?: SleepingStep[];
}

export function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Reads a run's history into steps, their states and outputs, and the run's outcome. */
export async function viewFromHistory(history: History, workflowId: string, now = Date.now()): Promise<HistoryView> {
  return viewOf(await foldHistory(history, workflowId), now);
}

const KIND: Record<Call['kind'], StepView['kind']> = { agent: 'agent', workflow: 'workflow', definition: 'definition', pin: 'definition', batch: 'batch' };

/** The status view of a fold. */
export function viewOf(fold: RunFold, now = Date.now()): HistoryView {
  const view: HistoryView = { status: fold.status, steps: [], finished: [], running: [], input: fold.args?.input };
  const lead: StepView[] = [];
  for (const [id, outputs] of Object.entries(fold.carried.outputs)) lead.push({ id, kind: 'agent', state: 'carried', attempts: 0, outputs });
  for (const [id, outputs] of Object.entries(fold.args?.completed ?? {})) lead.push({ id, kind: 'agent', state: 'reused', attempts: 0, outputs });
  const called = new Set(fold.calls.map((c) => c.step));
  // Results offered by the failed run a retry continues: those a completed run has but never
  // called were reused (a run not yet complete may still reach the others).
  for (const [id, offer] of Object.entries(fold.args?.offers ?? {})) {
    if (!fold.result?.step_outputs?.[id] || called.has(id) || lead.some((s) => s.id === id)) continue;
    const given = offer as { result?: unknown; stored?: unknown };
    lead.push({ id, kind: 'agent', state: 'reused', attempts: 0, outputs: 'stored' in given ? given.stored : given.result });
  }
  const named = (c: Call) =>
    c.kind === 'definition' || c.kind === 'pin' || c.kind === 'batch' ? (c.kind === 'batch' ? `${c.step}.batch-${c.batch}` : c.name) : c.step;
  const steps = fold.calls.map((c): StepView => {
    const s: StepView = { id: named(c), kind: KIND[c.kind], state: c.state, attempts: c.attempts, scheduled_at: iso(c.scheduledMs) };
    const open = c.state === 'running' || c.state === 'scheduled';
    const until = open ? (fold.closeMs ?? now) : c.closedMs;
    if (c.scheduledMs !== undefined && until !== undefined) s.duration_ms = until - c.scheduledMs;
    if (c.kind === 'agent' && c.state === 'completed') {
      const reply = c.result as { result?: unknown; agent?: string } | undefined;
      Object.assign(s, { outputs: reply?.result, agent: reply?.agent });
    } else if (c.kind === 'workflow' && c.state === 'completed') s.outputs = c.result;
    if (c.error) s.error = c.error;
    // A run that closed while a step was under way took the step with it.
    if (open && fold.closeMs !== undefined) s.state = fold.status === 'TERMINATED' || fold.status === 'TIMED_OUT' ? 'terminated' : 'cancelled';
    // A completed run's result is the authority on outputs (it has the stored form of each step).
    const stored = fold.result?.step_outputs?.[s.id];
    if (stored && (c.kind === 'agent' || c.kind === 'workflow')) s.outputs = stored.outputs;
    return s;
  });
  view.steps = [...lead, ...steps];
  const finishedCalls = fold.calls
    .map((c, i) => ({ c, s: steps[i] }))
    .filter(({ c }) => c.state === 'completed' && (c.kind === 'agent' || c.kind === 'workflow'))
    .sort((a, b) => (a.c.closedEvent ?? 0) - (b.c.closedEvent ?? 0));
  view.finished = [...lead.map((s) => s.id), ...finishedCalls.map(({ s }) => s.id)];
  view.running = view.steps.filter((s) => s.state === 'running' || s.state === 'scheduled').map((s) => s.id);
  if (fold.result) view.result = fold.result;
  if (fold.failure) view.failure = fold.failure;
  if (fold.cancelRequestedMs !== undefined) view.cancel_requested_at = iso(fold.cancelRequestedMs);
  if (fold.generations.length) view.generations = fold.generations;
  if (fold.firstExecutionRunId) view.first_run_id = fold.firstExecutionRunId;
  if (fold.closeMs === undefined) {
    if (fold.waiting.length) view.waiting = fold.waiting;
    const asking = fold.memo.asking;
    if (Array.isArray(asking) && asking.length) view.asking = asking as NonNullable<HistoryView['asking']>;
    const sleeping = fold.timers.filter((t) => t.kind === 'sleep' && t.state === 'pending' && t.step && t.firesMs !== undefined);
    if (sleeping.length) view.sleeping = sleeping.map((t) => ({ step: t.step!, until: iso(t.firesMs)! }));
  }
  view.start_time = iso(fold.startMs);
  view.close_time = iso(fold.closeMs);
  if (fold.startMs !== undefined) view.duration_ms = (fold.closeMs ?? now) - fold.startMs;
  return view;
}
