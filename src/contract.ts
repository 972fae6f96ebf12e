// The contract between the interpreter workflow and everything that talks to it (client,
// CLI, activities, tests): its input, the `state` query and its shape, and the type of every
// failure a run can end with. Both sides import this one module; it is sandbox-safe (the
// workflow imports it too), so it holds only data shapes and Temporal definitions.
import { defaultPayloadConverter, type QueryDefinition, type UpdateDefinition } from '@temporalio/common';
import type { WaitOutcome } from './dsl/step-types';
import { MAX_PAYLOAD_BYTES, type DefinitionSource, type WorkflowDefinition } from './dsl/types';

/** The skill that runs another Pallet workflow (a Temporal child workflow) instead of an agent. */
export const EXECUTE_WORKFLOW_SKILL = 'execute_workflow';

export interface PalletWorkflowInput {
  /** The definition to run. When absent it is loaded by an activity from `source.ref`. */
  definition?: WorkflowDefinition;
  source?: DefinitionSource;
  input?: Record<string, unknown>;
  /**
   * Stored outputs of steps finished by an earlier run (`pallet retry` before offers): not
   * called again, whatever their inputs now.
   */
  completed?: Record<string, unknown>;
  /**
   * Results of steps finished by an earlier run, offered for reuse (`pallet retry`): a step
   * takes its offer only when its key (definition and resolved inputs, see stepKey) is the same.
   */
  offers?: Record<string, ReuseOffer>;
  /** Definitions an earlier run pinned for its `execute_workflow` steps, by step id: run those again. */
  pinned?: Record<string, DefinitionSource>;
  /**
   * The run whose agent calls these continue (`pallet retry`): call ids (Idempotency-Key)
   * are made from it, so a step in flight when that run failed is recognised when called again.
   */
  callsOf?: string;
  /**
   * Continue-as-new: stored outputs of the steps earlier generations of this run finished.
   * They are taken as they are (not called again) while the walk resumes where it was.
   */
  carried?: Record<string, unknown>;
  /** Continue-as-new: steps without outputs (sleeps) that earlier generations finished. */
  passed?: string[];
  /**
   * A batch of a large parallel step, run as a child workflow: the stored outputs its
   * branches may read (the parent's steps before the parallel step). Not part of its result.
   */
  context?: Record<string, unknown>;
  /** The history size of each earlier generation of this run, oldest first. */
  generations?: GenerationSize[];
  /** Continue-as-new: the key (stepKey) of each carried call step, so that `pallet retry` can offer it. */
  keys?: Record<string, string>;
  /** Continue-as-new: sleeps and waits under way when the last generation ended, with their deadlines. */
  timers?: Record<string, CarriedTimer>;
  /** Continue-as-new with a large state: the carried outputs no later step reads, kept in the data store. */
  stored?: StoredState;
  /** `execute_workflow` nesting: the definition ids of the runs this one is nested in, outermost first. */
  lineage?: string[];
  /** The workflow id of the root run, whose large data this run's data is (retention); absent: this run is the root. */
  owner?: string;
  /** A batch of a parallel step inside a loop: the iteration it belongs to. */
  frame?: IterationFrame;
  /** Events after which the run continues as new (default MAX_HISTORY_EVENTS); tests set it low. */
  historyLimit?: number;
  /** Bytes of carried state kept in the next generation's input before the rest goes to the data store (default 1 MB); tests set it low. */
  inlineStateBytes?: number;
}

/** One generation of a run that continued as new: its run id, when it started (RFC 3339) and its history size. */
export interface GenerationSize {
  run_id: string;
  started_at?: string;
  events: number;
  bytes: number;
}

/**
 * A finished step's result and the key of the step that produced it: `result` is what the agent
 * (or child run) returned, stored under the step's `outputs` when it is taken; `stored` is the
 * value as it was stored (a step carried from an earlier generation), taken as it is.
 */
export type ReuseOffer = { result: unknown; key: string } | { stored: unknown; key: string };

/** A sleep or wait under way when a generation ended: when it began and when it ends (RFC 3339; null: a wait without timeout). */
export interface CarriedTimer {
  since: string;
  until: string | null;
}

/** One iteration of a loop, as a batch of a parallel step inside it sees it. */
export interface IterationFrame {
  /** The qualified prefix of its steps, `loop[3].` (nested loops: `outer[1].inner[2].`). */
  prefix: string;
  item: unknown;
  index: number;
}

/**
 * Carried outputs kept in the data store (docs/large-data.md): each segment a JSON blob
 * (StateSegment) written when a generation ended, and the segment of each step id kept there.
 */
export interface StoredState {
  segments: ClaimRef[];
  index: Record<string, number>;
}

/** What one segment of a stored state holds: stored outputs and the keys of the call steps among them. */
export interface StateSegment {
  outputs: Record<string, unknown>;
  keys: Record<string, string>;
}

/**
 * Stands, in the workflow, for a carried output kept in a segment of the stored state. Later
 * steps never read such outputs by path (they stay inline); passed whole to an agent it is
 * replaced by the data, as a claim-check reference is.
 */
export interface StateRef {
  $pallet_state: ClaimRef;
  step: string;
}

/** Whether a value stands for an output kept in the stored state. */
export function isStateRef(value: unknown): value is StateRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    isClaimRef((value as { $pallet_state?: unknown }).$pallet_state) &&
    typeof (value as { step?: unknown }).step === 'string'
  );
}

/** What a container step decided, for people following a run (not part of its result). */
export interface ContainerSummary {
  step_type: 'parallel' | 'conditional' | 'switch' | 'for_each' | 'repeat';
  /** for_each: how many items it runs its steps for. */
  items?: number;
  /** repeat: the iterations so far. */
  iterations?: number;
  /** conditional and switch: the branch that ran (`null`: none). */
  branch?: string | null;
  /** conditional and switch: the condition's value. */
  value?: unknown;
  /** The steps it contains that ran (a parallel step: all of them). */
  steps: string[];
}

/** Live state of a run, answered to the `state` query. */
export interface RunState {
  status: 'running' | 'completed' | 'failed';
  workflow: { id: string; name: string; version: string };
  /** Steps under way: agent calls, child workflows and the containers around them. */
  running: string[];
  /** Agent and workflow steps that finished, in the order they finished. */
  finished: string[];
  /** Steps whose outputs were taken from an earlier run instead of being run again. */
  reused: string[];
  /** Steps offered for reuse that ran again: their definition or resolved inputs changed. */
  rerun?: string[];
  /** Stored output of each finished agent or workflow step (the run's `step_outputs` so far). */
  step_outputs: Record<string, { outputs: unknown }>;
  /** What each container step decided. */
  containers: Record<string, ContainerSummary>;
  /** The exact definition each `execute_workflow` step runs, resolved once. */
  pinned: Record<string, DefinitionSource>;
  /** Failed steps that on_error or continue_on_error recovered, and how. */
  recovered?: Record<string, 'on_error' | 'continue_on_error'>;
  /** Steps whose `compensate` steps ran after the run failed, in the order they ran. */
  compensated?: string[];
  /** Steps without outputs (sleeps) that finished. */
  passed?: string[];
  error?: string;
}

// The query and updates are written out as @temporalio/workflow's defineQuery and defineUpdate
// make them (`{ type, name }`): importing that package here would load it into every client,
// `pallet status` included. test/unit/contract-definitions.test.ts checks they stay equal.
export const stateQuery = { type: 'query', name: 'state' } as QueryDefinition<RunState | null>;

/** Details attached to a StepFailed failure, for the CLI and for `retry`. */
export interface StepFailureDetails {
  stepId: string;
  skill?: string;
  /** Container steps enclosing the failed one, outermost first. */
  within: string[];
  reason: string;
}

// The failure types live in a leaf module, so that the DSL can name them without importing this one.
export { AGENT_FAILURE_TYPES, FailureTypes, NOT_WAITING } from './failure-types';

/** The size of a value as Temporal sends it, to compare with MAX_PAYLOAD_BYTES. */
export function payloadSize(value: unknown): number {
  return defaultPayloadConverter.toPayload(value).data?.length ?? 0;
}

/** The size of a value that Temporal would refuse as one payload (over MAX_PAYLOAD_BYTES); undefined when it fits. */
export function oversizedPayload(value: unknown): number | undefined {
  const size = payloadSize(value);
  return size > MAX_PAYLOAD_BYTES ? size : undefined;
}

/**
 * What decides whether an earlier run's result can stand for a step: the step's definition
 * (without its templates, its timeout or its description, which do not change the answer) and
 * its inputs as resolved. An `execute_workflow` step counts only the workflow and its input,
 * the parts a child run receives. Computed alike by the workflow and by `pallet retry` (from
 * the failed run's history), so it must stay a pure function of these values.
 */
/** Step fields that do not change what a step returns. */
const KEY_IGNORES = ['inputs', 'timeout', 'description'];

export function stepKey(step: { skill: string; inputs?: unknown; [field: string]: unknown }, inputs: Record<string, unknown>): string {
  const rest: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(step)) if (!KEY_IGNORES.includes(field)) rest[field] = value;
  const resolved = step.skill === EXECUTE_WORKFLOW_SKILL ? { workflow_id: inputs.workflow_id, input: inputs.input ?? {} } : inputs;
  const text = canonicalJson({ step: rest, inputs: resolved });
  return `${text.length.toString(36)}-${hash53(text, 1).toString(36)}-${hash53(text, 2).toString(36)}`;
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Math.imul read once: in the workflow sandbox a global read goes through the SDK's global proxy, which made this loop a third of a ms per step (npm run bench). */
const { imul } = Math;

/** A 53-bit string hash (cyrb53); two seeds give the key about 106 bits. */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = imul(h1 ^ c, 2654435761);
    h2 = imul(h2 ^ c, 1597334677);
  }
  h1 = imul(h1 ^ (h1 >>> 16), 2246822507) ^ imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = imul(h2 ^ (h2 >>> 16), 2246822507) ^ imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

// ---- Search attributes ----------------------------------------------------------------

/** A Keyword search attribute's key (as `defineSearchAttributeKey(name, 'KEYWORD')` makes it). */
export type KeywordAttributeKey = import('@temporalio/common/lib/search-attributes').SearchAttributeKey<'KEYWORD'>;
const keyword = (name: string): KeywordAttributeKey => ({ name, type: 'KEYWORD' });

/**
 * Pallet's custom search attributes, all Keyword: what a run ran and how it is going, so runs
 * can be found by them (`pallet runs --definition ID`, Web UI filters and list columns). The
 * dev server of `npm start` registers them; a real cluster needs them created once
 * (docs/docker-compose.md). Starting or upserting an attribute the namespace does not know is
 * refused, so the client sets them, and tells the workflow to (`searchAttributes: true` in
 * its input), only when the server has all of them.
 */
export const PalletSearchAttributes = {
  definitionId: keyword('PalletDefinitionId'),
  definitionVersion: keyword('PalletDefinitionVersion'),
  definitionDigest: keyword('PalletDefinitionDigest'),
  /** The interpreter's view of the run (PalletStatus). */
  status: keyword('PalletStatus'),
} as const;

/** Values of the PalletStatus search attribute: loading the definition, running its steps, and how it ended. */
export type PalletStatus = 'loading' | 'running' | 'completed' | 'failed' | 'cancelled';

// Declaration merging: adds a field to PalletWorkflowInput above.
export interface PalletWorkflowInput {
  /**
   * Set by the client only when the namespace has Pallet's search attributes: the workflow
   * then upserts PalletStatus and the definition's id, version and digest, and passes this on
   * to its `execute_workflow` children. Absent: the workflow touches no search attribute.
   */
  searchAttributes?: true;
}

// ---- Large data: claim-check references ------------------------------------------------

/**
 * A value kept out of the Temporal history (docs/large-data.md): the agent activity stores a
 * large part of a result (a string, or a list or map whose JSON is big) as a blob in the OCI
 * registry's data repository and puts this small object in its place. `$pallet_ref` is the
 * blob's digest, `size` its bytes, `media_type` how to read it back: `text/plain;
 * charset=utf-8` for a string (the blob is the text), `application/json` for anything else.
 * The workflow never reads the data: templates and expressions over the value see this object;
 * the activity replaces it with the data before calling an agent, and the CLI before printing.
 */
export interface ClaimRef {
  $pallet_ref: string;
  size: number;
  media_type: string;
}

/** The key that marks a claim-check reference. */
export const CLAIM_REF_KEY = '$pallet_ref';

/** Whether a value is a claim-check reference: exactly the three fields, a sha256 digest. */
export function isClaimRef(value: unknown): value is ClaimRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.$pallet_ref === 'string' &&
    /^sha256:[0-9a-f]{64}$/.test(v.$pallet_ref) &&
    typeof v.size === 'number' &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0 &&
    typeof v.media_type === 'string' &&
    Object.keys(v).length === 3
  );
}

// ---- Waiting: wait steps and the events that answer them -------------------------------

/** How a wait step ended: the outcome its event gave, or `timed_out` (dsl/step-types.ts, with WAIT_OUTCOMES). */
export type { WaitOutcome };

/**
 * A wait step's output, visible to templates as `steps.<id>.outputs` and recorded in the
 * run's `step_outputs`: the outcome, the event's payload (`null` when none or timed out) and
 * who sent it (when the sender said).
 */
export interface WaitOutput {
  outcome: WaitOutcome;
  data: unknown;
  by?: string;
}

/** A wait step waiting for its event, in the `state` query. Times are RFC 3339 (workflow time). */
export interface WaitingStep {
  step: string;
  /** The name the event is sent under (the step's `event`, default its id). */
  event: string;
  since: string;
  /** When it times out; null: no timeout. */
  timeout_at: string | null;
}

// Declaration merging: adds a field to RunState above.
export interface RunState {
  /** Wait steps waiting for their event now (several at once inside parallel steps). */
  waiting?: WaitingStep[];
}

/** An event for a wait step (`pallet approve`), sent with the `event` update. */
export interface PalletEvent {
  /** A pending wait's event name, or its step id. */
  event: string;
  outcome: 'approved' | 'rejected';
  /** Any JSON value: the wait step's `data`. */
  data?: unknown;
  /** Who sent it, e.g. a user name: the wait step's `by`. */
  by?: string;
}

/** What the sender of an event learns once the run has taken it: the wait steps it answered. */
export interface EventReceipt {
  steps: string[];
  outcome: 'approved' | 'rejected';
}

/**
 * The update that delivers an event. Its validator refuses (nothing is recorded in the
 * history) an event no wait step of the run is waiting for now, with a message naming the
 * events it is waiting for; an event sent before its wait step started is refused too, not kept.
 */
export const eventUpdate = { type: 'update', name: 'event' } as UpdateDefinition<EventReceipt, [PalletEvent]>;

// ---- Agents that ask: input-required tasks and the answers sent to them ----------------

/** A call step whose agent asked for input (A2A `input-required`), waiting for `pallet reply`. Times are RFC 3339 (workflow time). */
export interface AskingStep {
  step: string;
  /** The agent's question. */
  question: string;
  /** Data the agent attached to its question, if any. */
  data?: unknown;
  since: string;
  /** When the wait for an answer ends (the step's `reply_timeout`); null: no limit. */
  timeout_at: string | null;
  /** The agent's task, continued with the answer. */
  task: { taskId: string; contextId?: string };
}

// Declaration merging: adds fields to RunState and PalletWorkflowInput above.
export interface RunState {
  /** Call steps whose agent asked a question, waiting for `pallet reply`. */
  asking?: AskingStep[];
}
export interface PalletWorkflowInput {
  /** Continue-as-new: agents' questions still unanswered when the last generation ended, by step id. */
  asking?: Record<string, AskingStep>;
}

/** An answer for an agent's question (`pallet reply`), sent with the `reply` update. */
export interface PalletReply {
  /** The asking call step's id (a loop body step: `loop[3].step`). */
  step: string;
  text?: string;
  data?: unknown;
  by?: string;
}

/** What the sender of a reply learns once the run has taken it. */
export interface ReplyReceipt {
  step: string;
}

/** The update that answers an agent's question. Its validator refuses (nothing recorded) a reply no step is asking for. */
export const replyUpdate = { type: 'update', name: 'reply' } as UpdateDefinition<ReplyReceipt, [PalletReply]>;

/** The failure type of a refused reply: no step is asking now; details: [{ asking: AskingStep[] }]. */
export const NOT_ASKING = 'NotAsking';
