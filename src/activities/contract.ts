// The activities' signatures, shared by the worker (implementations) and the workflow
// sandbox (type-only import), so both sides agree on names and shapes. Their failure types
// are in ../contract.ts with every other failure of a run.
import type { TaskAnswer, TaskRef } from '../agents/protocol';
import type { ClaimRef, StateSegment } from '../contract';
import type { DefinitionSource, WorkflowDefinition } from '../dsl/types';

export interface CallAgentRequest {
  stepId: string;
  skill: string;
  inputs: Record<string, unknown>;
  /**
   * The call's id, sent as JSON-RPC id and Idempotency-Key: the same for every attempt of the
   * step in this run and in `pallet retry` runs of it. Absent in runs recorded before it.
   */
  callId?: string;
  /** The workflow id of the root run: large parts of the result are stored as its data (retention, docs/large-data.md). */
  owner?: string;
  /** The step's retry settings that the activity applies (absent: the defaults). */
  retry?: AgentRetry;
  /** The answer to the agent's input-required question (`pallet reply`): continue that task with it (A2A). */
  answer?: TaskAnswer;
}

/** What the agent activity decides about retries, from a step's `retry` settings. */
export interface AgentRetry {
  /** The agent's failures the step may use (default MAX_AGENT_FAILURES). */
  maxFailures?: number;
  /** Failure types retried (and counted) although final by default. */
  retryOn?: string[];
  /** Failure types that end the step at once. */
  noRetry?: string[];
}

export interface CallAgentReply {
  result: unknown;
  /** Base URL of the agent that answered, kept in the history for inspection. */
  agent: string;
  /** The agent asks for input (A2A `input-required`): no result yet; the step waits for `pallet reply`. */
  inputRequired?: { task: TaskRef; question: string; data?: unknown };
}

export interface LoadDefinitionRequest {
  /** A workflow id (`code-generation-v1`), `name:tag`, `name@sha256:...` or a full reference. */
  ref: string;
  /** When set, the definition must have exactly this digest. */
  digest?: string;
}

export interface LoadedDefinition {
  definition: WorkflowDefinition;
  source: DefinitionSource;
}

/** A segment of a run's carried outputs to keep in the data store. */
export interface StoreStateRequest {
  /** The workflow id of the root run the data belongs to (retention). */
  owner?: string;
  segment: StateSegment;
}

/** A run's step outputs to assemble from its stored state: ids in Pallet's order, each in a segment (`index`). */
export interface StoreResultRequest {
  owner?: string;
  order: string[];
  segments: ClaimRef[];
  index: Record<string, number>;
}

export interface StoreResultReply {
  /** The step outputs, `{ id: { outputs } }` in Pallet's order, as one blob. */
  step_outputs: ClaimRef;
  /** The last step's output (large parts as references). */
  final_output: unknown;
}

export interface PalletActivities {
  callAgent(req: CallAgentRequest): Promise<CallAgentReply>;
  loadDefinition(req: LoadDefinitionRequest): Promise<LoadedDefinition>;
  storeState(req: StoreStateRequest): Promise<ClaimRef>;
  storeResult(req: StoreResultRequest): Promise<StoreResultReply>;
}
