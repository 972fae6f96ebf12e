// One reading of a run's history: every event folded once into what the run was given, what
// it called (agent activities, child workflows, batches of large parallel steps, definition
// loads and pins), its timers and memo, and how it ended. `pallet status`, `cancel` and
// `retry` are projections of this fold (view.ts, reuse.ts); the names it reads back are
// those ids.ts builds for the interpreter.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { resolveClaims, type ClaimStore } from '../claims';
import type { GenerationSize, PalletWorkflowInput, StateRef, StateSegment, StepFailureDetails, WaitingStep } from '../contract';
import type { DefinitionSource, RunResult, WorkflowDefinition } from '../dsl/types';
import { LOAD_DEFINITION_ACTIVITY, parseChildWorkflowId, pinnedStepOf } from './ids';

export type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;
type Payload = temporal.api.common.v1.IPayload;
type Payloads = temporal.api.common.v1.IPayloads;

export type CallState = 'scheduled' | 'running' | 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'terminated';

/** One call the run made: an activity or a child workflow, with the step it was for. */
export interface Call {
  /**
   * agent: an agent step's activity; definition: the run's definition load; pin: an
   * `execute_workflow` step's definition load; workflow: its child run; batch: a batch of a
   * large parallel step (a child run of its branches).
   */
  kind: 'agent' | 'definition' | 'pin' | 'workflow' | 'batch';
  /** The (qualified) step id it was for; for the definition load, `load-definition`. */
  step: string;
  /** The activity id, or the child's workflow id. */
  name: string;
  /** A batch's index. */
  batch?: number;
  /** A child's run id, once it started. */
  runId?: string;
  state: CallState;
  /** The last started attempt (0 while none started). */
  attempts: number;
  scheduledMs?: number;
  closedMs?: number;
  /** The event that closed it: calls finish in this order. */
  closedEvent?: number;
  /** What was sent: the activity's argument, or the child's input. */
  input?: unknown;
  /** What came back, as returned (an agent call: its reply `{result, agent}`; a child: its RunResult). */
  result?: unknown;
  error?: string;
}

/** A durable timer: a sleep step's, or a wait step's timeout. */
export interface Timer {
  /** The step its summary names (`<step>: sleep ...`, `<step>: wait for ...`). */
  step?: string;
  kind: 'sleep' | 'wait' | 'other';
  summary?: string;
  startedMs?: number;
  /** When it fires. */
  firesMs?: number;
  state: 'pending' | 'fired' | 'cancelled';
}

export interface RunFailure {
  message: string;
  type?: string;
  /** The step's details, from any failure type that carries them. */
  step?: StepFailureDetails;
}

/** Stored outputs an earlier generation of the run carried into this one, and the keys of its call steps. */
export interface Carried {
  outputs: Record<string, unknown>;
  /** Step id -> stepKey, for the carried call steps whose key the interpreter carried. */
  keys: Record<string, string>;
}

export interface RunFold {
  workflowId: string;
  firstExecutionRunId?: string;
  args?: PalletWorkflowInput;
  carried: Carried;
  /** The definition it ran: its input's, or the one it loaded. */
  definition?: WorkflowDefinition;
  source?: DefinitionSource;
  /** Every call, in the order it was scheduled. */
  calls: Call[];
  /** Definitions its `execute_workflow` steps pinned (given and loaded), and the reference each was loaded by. */
  pinned: Record<string, DefinitionSource>;
  pinRefs: Record<string, string>;
  timers: Timer[];
  /** The memo as upserted (the start's memo, then each upsert). */
  memo: Record<string, unknown>;
  /** Wait steps waiting, as the interpreter's last `waiting` memo upsert says. */
  waiting: WaitingStep[];
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  startMs?: number;
  closeMs?: number;
  result?: RunResult;
  failure?: RunFailure;
  cancelRequestedMs?: number;
  /** Earlier generations of the run, oldest first. */
  generations: GenerationSize[];
  /** The next generation's run id (continued as new). */
  continuedAs?: string;
}

/** The first payload of an event's payloads, decoded; undefined when absent or unreadable. */
export function decode<T>(payloads: Payloads | null | undefined): T | undefined {
  return decodeOne<T>(payloads?.payloads?.[0]);
}

function decodeOne<T>(payload: Payload | null | undefined): T | undefined {
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

/** The step details of a failure or its causes, whatever its type (StepFailed, ExpressionError, ...). */
export function stepDetails(failure: Failure | null | undefined): StepFailureDetails | undefined {
  for (let f = failure; f; f = f.cause) {
    const details = decode<StepFailureDetails>(f.applicationFailureInfo?.details);
    if (details && typeof details === 'object' && typeof details.stepId === 'string') return details;
  }
  return undefined;
}

/**
 * What earlier generations carried into this one. The one place that reads `carried` (and
 * `completed`'s sibling `keys`): when large state is carried by claim check, this is where the
 * reference is read back (it is async for that, and will take a ClaimStore).
 */
export async function carriedOutputs(args: PalletWorkflowInput | undefined, store?: ClaimStore): Promise<Carried> {
  const carried: Carried = { outputs: { ...(args?.carried ?? {}) }, keys: { ...(args?.keys ?? {}) } };
  const stored = args?.stored;
  if (!stored) return carried;
  // A long run kept the rest in the data store (workflows/state.ts): read its segments when a
  // store is given; otherwise each such step stands as the reference the workflow holds.
  if (!store) {
    for (const [id, at] of Object.entries(stored.index)) carried.outputs[id] = { $pallet_state: stored.segments[at], step: id } satisfies StateRef;
    return carried;
  }
  const segments = await Promise.all(stored.segments.map(async (ref) => (await resolveClaims(ref, store)) as StateSegment));
  for (const [id, at] of Object.entries(stored.index)) {
    Object.defineProperty(carried.outputs, id, { value: segments[at].outputs[id], enumerable: true, writable: true, configurable: true });
    const key = segments[at].keys?.[id];
    if (key !== undefined) carried.keys[id] = key;
  }
  return carried;
}

/** An event's time in ms: a protobuf Timestamp (seconds a Long, a number or a string), or an ISO string. */
export function timeOf(ts: unknown): number | undefined {
  if (!ts) return undefined;
  if (typeof ts === 'string') {
    const ms = Date.parse(ts);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const { seconds, nanos } = ts as { seconds?: unknown; nanos?: unknown };
  return numberOf(seconds) * 1000 + Math.floor(Number(nanos ?? 0) / 1e6);
}

/** A protobuf Duration in ms (`{seconds, nanos}` or "1.5s"). */
function durationOf(d: unknown): number | undefined {
  if (d === null || d === undefined) return undefined;
  if (typeof d === 'string') return d.endsWith('s') ? Number(d.slice(0, -1)) * 1000 : undefined;
  const { seconds, nanos } = d as { seconds?: unknown; nanos?: unknown };
  return numberOf(seconds) * 1000 + Math.floor(Number(nanos ?? 0) / 1e6);
}

function numberOf(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return Number(value ?? 0);
}

/** A memo value: the interpreter upserts `waiting` as a JSON array (or its text). */
function waitingOf(value: unknown): WaitingStep[] {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return [];
    }
  }
  return Array.isArray(list) ? list.filter((w): w is WaitingStep => typeof w === 'object' && w !== null && typeof (w as WaitingStep).step === 'string') : [];
}

/** The step a timer's summary names: `<step>: sleep ...` or `<step>: wait for ...` (waits.ts). */
function timerOf(summary: string | undefined): Pick<Timer, 'step' | 'kind'> {
  const match = /^(.+?): (sleep|wait for) /.exec(summary ?? '');
  if (!match) return { kind: 'other' };
  return { step: match[1], kind: match[2] === 'sleep' ? 'sleep' : 'wait' };
}

/** Folds a run's history (one generation) into its calls, timers, memo and outcome; `store`: where a long run's stored state is read from. */
export async function foldHistory(history: History, workflowId: string, store?: ClaimStore): Promise<RunFold> {
  const fold: RunFold = {
    workflowId,
    carried: { outputs: {}, keys: {} },
    calls: [],
    pinned: {},
    pinRefs: {},
    timers: [],
    memo: {},
    waiting: [],
    status: 'RUNNING',
    generations: [],
  };
  const byEvent = new Map<string, Call>();
  const timers = new Map<string, Timer>();
  const upsertMemo = (fields: Record<string, Payload> | null | undefined) => {
    for (const [name, payload] of Object.entries(fields ?? {})) {
      fold.memo[name] = decodeOne(payload);
      if (name === 'waiting') fold.waiting = waitingOf(fold.memo[name]);
    }
  };
  const close = (ref: unknown, e: Event, state: CallState, fields: Partial<Call> = {}) => {
    const call = byEvent.get(String(ref));
    if (!call) return;
    Object.assign(call, { state, closedMs: timeOf(e.eventTime), closedEvent: numberOf(e.eventId), ...fields });
  };
  const end = (e: Event, status: string, failure?: RunFailure) => {
    fold.status = status;
    fold.closeMs = timeOf(e.eventTime);
    if (failure) fold.failure = failure;
  };

  for (const e of history.events ?? []) {
    const at = timeOf(e.eventTime);
    const key = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      fold.startMs = at;
      fold.firstExecutionRunId = a.firstExecutionRunId || undefined;
      fold.args = decode<PalletWorkflowInput>(a.input);
      fold.carried = await carriedOutputs(fold.args, store);
      fold.definition = fold.args?.definition;
      fold.source = fold.args?.source;
      fold.pinned = { ...(fold.args?.pinned ?? {}) };
      fold.generations = fold.args?.generations ?? [];
      upsertMemo(a.memo?.fields);
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const name = a.activityId ?? '?';
      const pinFor = a.activityType?.name === 'callAgent' ? undefined : pinnedStepOf(name);
      const kind =
        a.activityType?.name === 'callAgent' ? 'agent' : name === LOAD_DEFINITION_ACTIVITY ? 'definition' : pinFor !== undefined ? 'pin' : 'definition';
      const call: Call = { kind, step: pinFor ?? name, name, state: 'scheduled', attempts: 0, scheduledMs: at, input: decode(a.input) };
      byEvent.set(key, call);
      fold.calls.push(call);
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const call = byEvent.get(String(a.scheduledEventId));
      if (call) Object.assign(call, { state: 'running', attempts: a.attempt ?? 1 });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const call = byEvent.get(String(a.scheduledEventId));
      close(a.scheduledEventId, e, 'completed', { result: decode(a.result) });
      const loaded = call?.result as { definition?: WorkflowDefinition; source?: DefinitionSource } | undefined;
      if (call?.kind === 'definition' && loaded?.definition) {
        fold.definition = loaded.definition;
        fold.source = loaded.source ?? fold.source;
      } else if (call?.kind === 'pin' && loaded?.source) {
        fold.pinned[call.step] = loaded.source;
        fold.pinRefs[call.step] = (call.input as { ref?: string } | undefined)?.ref ?? loaded.source.ref;
      }
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      close(a.scheduledEventId, e, 'failed', { error: failureText(a.failure) });
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      close(a.scheduledEventId, e, 'timed_out', { error: failureText(a.failure) });
    } else if (e.activityTaskCanceledEventAttributes) {
      close(e.activityTaskCanceledEventAttributes.scheduledEventId, e, 'cancelled');
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
      const name = a.workflowId ?? '?';
      const parsed = parseChildWorkflowId(workflowId, name);
      const call: Call = {
        kind: parsed?.batch !== undefined ? 'batch' : 'workflow',
        step: parsed?.step ?? name,
        name,
        state: 'scheduled',
        attempts: 0,
        scheduledMs: at,
        input: decode(a.input),
      };
      if (parsed?.batch !== undefined) call.batch = parsed.batch;
      byEvent.set(key, call);
      fold.calls.push(call);
    } else if (e.startChildWorkflowExecutionFailedEventAttributes) {
      const a = e.startChildWorkflowExecutionFailedEventAttributes;
      close(a.initiatedEventId, e, 'failed', { error: `could not start the child workflow (${String(a.cause)})` });
    } else if (e.childWorkflowExecutionStartedEventAttributes) {
      const a = e.childWorkflowExecutionStartedEventAttributes;
      const call = byEvent.get(String(a.initiatedEventId));
      if (call) Object.assign(call, { state: 'running', attempts: 1, runId: a.workflowExecution?.runId ?? undefined });
    } else if (e.childWorkflowExecutionCompletedEventAttributes) {
      const a = e.childWorkflowExecutionCompletedEventAttributes;
      close(a.initiatedEventId, e, 'completed', { result: decode(a.result) });
    } else if (e.childWorkflowExecutionFailedEventAttributes) {
      const a = e.childWorkflowExecutionFailedEventAttributes;
      close(a.initiatedEventId, e, 'failed', { error: failureText(a.failure) });
    } else if (e.childWorkflowExecutionTimedOutEventAttributes) {
      close(e.childWorkflowExecutionTimedOutEventAttributes.initiatedEventId, e, 'timed_out');
    } else if (e.childWorkflowExecutionCanceledEventAttributes) {
      close(e.childWorkflowExecutionCanceledEventAttributes.initiatedEventId, e, 'cancelled');
    } else if (e.childWorkflowExecutionTerminatedEventAttributes) {
      close(e.childWorkflowExecutionTerminatedEventAttributes.initiatedEventId, e, 'terminated');
    } else if (e.timerStartedEventAttributes) {
      const a = e.timerStartedEventAttributes;
      const summary = decodeOne<string>(e.userMetadata?.summary);
      const ms = durationOf(a.startToFireTimeout);
      const timer: Timer = {
        ...timerOf(summary),
        summary,
        startedMs: at,
        firesMs: at !== undefined && ms !== undefined ? at + ms : undefined,
        state: 'pending',
      };
      timers.set(a.timerId ?? key, timer);
      fold.timers.push(timer);
    } else if (e.timerFiredEventAttributes) {
      const timer = timers.get(e.timerFiredEventAttributes.timerId ?? '');
      if (timer) timer.state = 'fired';
    } else if (e.timerCanceledEventAttributes) {
      const timer = timers.get(e.timerCanceledEventAttributes.timerId ?? '');
      if (timer) timer.state = 'cancelled';
    } else if (e.workflowPropertiesModifiedEventAttributes) {
      upsertMemo(e.workflowPropertiesModifiedEventAttributes.upsertedMemo?.fields);
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      fold.cancelRequestedMs ??= at;
    } else if (e.workflowExecutionCompletedEventAttributes) {
      end(e, 'COMPLETED');
      fold.result = decode<RunResult>(e.workflowExecutionCompletedEventAttributes.result);
    } else if (e.workflowExecutionFailedEventAttributes) {
      const f = e.workflowExecutionFailedEventAttributes.failure;
      end(e, 'FAILED', { message: f?.message ?? 'failed', type: f?.applicationFailureInfo?.type || undefined, step: stepDetails(f) });
    } else if (e.workflowExecutionTimedOutEventAttributes) {
      end(e, 'TIMED_OUT', { message: 'the run reached its execution timeout' });
    } else if (e.workflowExecutionCanceledEventAttributes) {
      end(e, 'CANCELLED', { message: 'the run was cancelled' });
    } else if (e.workflowExecutionTerminatedEventAttributes) {
      const reason = e.workflowExecutionTerminatedEventAttributes.reason;
      end(e, 'TERMINATED', { message: `the run was terminated${reason ? `: ${reason}` : ''}` });
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      end(e, 'CONTINUED_AS_NEW');
      fold.continuedAs = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId || undefined;
    }
  }
  return fold;
}

/** The batch children of a fold (large parallel steps), with the run each started as. */
export function batchesOf(fold: RunFold): Call[] {
  return fold.calls.filter((c) => c.kind === 'batch');
}
