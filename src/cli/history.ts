// A run as its history tells it: what `pallet status` shows when no worker can answer the
// `state` query (every closed run, and a running one whose worker is gone). Each agent call
// is an activity whose id is the step id, each execute_workflow step a child workflow
// `<run id>.<step id>`; their events give the step's state, attempts, duration and output.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { GenerationSize, PalletWorkflowInput, ReuseOffer, StepFailureDetails } from '../contract';
import type { RunResult } from '../dsl/types';

type Event = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;
type Payloads = temporal.api.common.v1.IPayloads;

export type StepState = 'scheduled' | 'running' | 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'terminated' | 'reused' | 'carried';

export interface StepView {
  id: string;
  /** agent: an agent call; workflow: an execute_workflow child; definition: a definition load. */
  kind: 'agent' | 'workflow' | 'definition';
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

export interface HistoryView {
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  start_time?: string;
  close_time?: string;
  duration_ms?: number;
  input?: Record<string, unknown>;
  steps: StepView[];
  /** Agent and workflow steps that finished, in the order they finished (reused ones first). */
  finished: string[];
  running: string[];
  result?: RunResult;
  failure?: RunFailureView;
  /** When someone asked the run to stop (`pallet cancel`). */
  cancel_requested_at?: string;
  /** Earlier generations of the run (it continued as new), oldest first. */
  generations?: GenerationSize[];
}

/** The first payload of an event's payloads, decoded; undefined when absent or unreadable. */
export function decode<T>(payloads: Payloads | null | undefined): T | undefined {
  const payload = payloads?.payloads?.[0];
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload<T>(payload);
  } catch {
    return undefined;
  }
}

/** One line from a failure and its causes, outermost first, without repeats. */
export function failureText(failure: Failure | null | undefined): string {
  const parts: string[] = [];
  for (let f = failure; f; f = f.cause) {
    const msg = f.message || (f.timeoutFailureInfo ? 'timed out' : '');
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
  }
  return parts.join(': ');
}

/** An event's time in ms: a protobuf Timestamp (seconds a Long, a number or a string), or an ISO string. */
function timeOf(ts: unknown): number | undefined {
  if (!ts) return undefined;
  if (typeof ts === 'string') {
    const ms = Date.parse(ts);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const { seconds, nanos } = ts as { seconds?: unknown; nanos?: unknown };
  const secs = typeof seconds === 'object' && seconds !== null && 'toNumber' in seconds ? (seconds as { toNumber(): number }).toNumber() : Number(seconds ?? 0);
  return secs * 1000 + Math.floor(Number(nanos ?? 0) / 1e6);
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

interface Tracked {
  view: StepView;
  scheduledMs?: number;
}

/** Reads a run's history into steps, their states and outputs, and the run's outcome. */
export function viewFromHistory(history: temporal.api.history.v1.IHistory, workflowId: string, now = Date.now()): HistoryView {
  const events: Event[] = history.events ?? [];
  const steps: Tracked[] = [];
  const activities = new Map<string, Tracked>();
  const children = new Map<string, Tracked>();
  const finished: string[] = [];
  const view: HistoryView = { status: 'RUNNING', steps: [], finished, running: [] };
  let startMs: number | undefined;
  let offered: Record<string, ReuseOffer> = {};
  let closeMs: number | undefined;

  const close = (t: Tracked | undefined, e: Event, state: StepState, fields: Partial<StepView> = {}) => {
    if (!t) return;
    Object.assign(t.view, { state, ...fields });
    const at = timeOf(e.eventTime);
    if (t.scheduledMs !== undefined && at !== undefined) t.view.duration_ms = at - t.scheduledMs;
    if (state === 'completed' && t.view.kind !== 'definition') finished.push(t.view.id);
  };

  for (const e of events) {
    const at = timeOf(e.eventTime);
    const key = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) {
      startMs = at;
      const args = decode<PalletWorkflowInput>(e.workflowExecutionStartedEventAttributes.input);
      view.input = args?.input;
      if (args?.generations?.length) view.generations = args.generations;
      for (const [id, outputs] of Object.entries(args?.carried ?? {})) {
        steps.push({ view: { id, kind: 'agent', state: 'carried', attempts: 0, outputs } });
        finished.push(id);
      }
      for (const [id, outputs] of Object.entries(args?.completed ?? {})) {
        steps.push({ view: { id, kind: 'agent', state: 'reused', attempts: 0, outputs } });
        finished.push(id);
      }
      offered = args?.offers ?? {};
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const kind = a.activityType?.name === 'callAgent' ? 'agent' : 'definition';
      const t: Tracked = { view: { id: a.activityId ?? '?', kind, state: 'scheduled', attempts: 0, scheduled_at: iso(at) }, scheduledMs: at };
      activities.set(key, t);
      steps.push(t);
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const t = activities.get(String(a.scheduledEventId));
      if (t) Object.assign(t.view, { state: 'running', attempts: a.attempt ?? 1 });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const t = activities.get(String(a.scheduledEventId));
      const reply = decode<{ result?: unknown; agent?: string }>(a.result);
      close(t, e, 'completed', t?.view.kind === 'agent' ? { outputs: reply?.result, agent: reply?.agent } : {});
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      close(activities.get(String(a.scheduledEventId)), e, 'failed', { error: failureText(a.failure) });
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      close(activities.get(String(a.scheduledEventId)), e, 'timed_out', { error: failureText(a.failure) });
    } else if (e.activityTaskCanceledEventAttributes) {
      close(activities.get(String(e.activityTaskCanceledEventAttributes.scheduledEventId)), e, 'cancelled');
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
      const childId = a.workflowId ?? '?';
      const id = childId.startsWith(`${workflowId}.`) ? childId.slice(workflowId.length + 1) : childId;
      const t: Tracked = { view: { id, kind: 'workflow', state: 'scheduled', attempts: 0, scheduled_at: iso(at) }, scheduledMs: at };
      children.set(key, t);
      steps.push(t);
    } else if (e.startChildWorkflowExecutionFailedEventAttributes) {
      const a = e.startChildWorkflowExecutionFailedEventAttributes;
      close(children.get(String(a.initiatedEventId)), e, 'failed', { error: `could not start the child workflow (${String(a.cause)})` });
    } else if (e.childWorkflowExecutionStartedEventAttributes) {
      const t = children.get(String(e.childWorkflowExecutionStartedEventAttributes.initiatedEventId));
      if (t) Object.assign(t.view, { state: 'running', attempts: 1 });
    } else if (e.childWorkflowExecutionCompletedEventAttributes) {
      const a = e.childWorkflowExecutionCompletedEventAttributes;
      close(children.get(String(a.initiatedEventId)), e, 'completed', { outputs: decode(a.result) });
    } else if (e.childWorkflowExecutionFailedEventAttributes) {
      const a = e.childWorkflowExecutionFailedEventAttributes;
      close(children.get(String(a.initiatedEventId)), e, 'failed', { error: failureText(a.failure) });
    } else if (e.childWorkflowExecutionTimedOutEventAttributes) {
      close(children.get(String(e.childWorkflowExecutionTimedOutEventAttributes.initiatedEventId)), e, 'timed_out');
    } else if (e.childWorkflowExecutionCanceledEventAttributes) {
      close(children.get(String(e.childWorkflowExecutionCanceledEventAttributes.initiatedEventId)), e, 'cancelled');
    } else if (e.childWorkflowExecutionTerminatedEventAttributes) {
      close(children.get(String(e.childWorkflowExecutionTerminatedEventAttributes.initiatedEventId)), e, 'terminated');
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      view.cancel_requested_at ??= iso(at);
    } else if (e.workflowExecutionCompletedEventAttributes) {
      view.status = 'COMPLETED';
      closeMs = at;
      view.result = decode<RunResult>(e.workflowExecutionCompletedEventAttributes.result);
    } else if (e.workflowExecutionFailedEventAttributes) {
      view.status = 'FAILED';
      closeMs = at;
      const f = e.workflowExecutionFailedEventAttributes.failure;
      const type = f?.applicationFailureInfo?.type || undefined;
      view.failure = { message: f?.message ?? 'failed', type, step: type === 'StepFailed' ? decode<StepFailureDetails>(f?.applicationFailureInfo?.details) : undefined };
    } else if (e.workflowExecutionTimedOutEventAttributes) {
      view.status = 'TIMED_OUT';
      closeMs = at;
      view.failure = { message: 'the run reached its execution timeout' };
    } else if (e.workflowExecutionCanceledEventAttributes) {
      view.status = 'CANCELLED';
      closeMs = at;
      view.failure = { message: 'the run was cancelled' };
    } else if (e.workflowExecutionTerminatedEventAttributes) {
      view.status = 'TERMINATED';
      closeMs = at;
      const reason = e.workflowExecutionTerminatedEventAttributes.reason;
      view.failure = { message: `the run was terminated${reason ? `: ${reason}` : ''}` };
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      view.status = 'CONTINUED_AS_NEW';
      closeMs = at;
    }
  }

  // Results offered by the failed run a retry continues: those a completed run has but never
  // called were reused (a run not yet complete may still reach the others).
  let lead = steps.filter((t) => t.view.state === 'carried' || t.view.state === 'reused').length;
  for (const [id, offer] of Object.entries(offered)) {
    if (!view.result?.step_outputs?.[id] || steps.some((t) => t.view.id === id)) continue;
    steps.splice(lead, 0, { view: { id, kind: 'agent', state: 'reused', attempts: 0, outputs: offer.result } });
    finished.splice(lead++, 0, id);
  }
  // A completed run's result is the authority on outputs (it has the stored form of each step).
  for (const t of steps) {
    const stored = view.result?.step_outputs?.[t.view.id];
    if (stored && t.view.kind !== 'definition') t.view.outputs = stored.outputs;
    if ((t.view.state === 'running' || t.view.state === 'scheduled') && t.scheduledMs !== undefined) t.view.duration_ms = (closeMs ?? now) - t.scheduledMs;
    // A run that closed while a step was under way took the step with it.
    if (closeMs !== undefined && (t.view.state === 'running' || t.view.state === 'scheduled')) t.view.state = view.status === 'TERMINATED' || view.status === 'TIMED_OUT' ? 'terminated' : 'cancelled';
  }
  view.steps = steps.map((t) => t.view);
  view.running = view.steps.filter((s) => s.state === 'running' || s.state === 'scheduled').map((s) => s.id);
  view.start_time = iso(startMs);
  view.close_time = iso(closeMs);
  if (startMs !== undefined) view.duration_ms = (closeMs ?? now) - startMs;
  return view;
}
