// The activities' signatures, shared by the worker (implementations) and the workflow
// sandbox (type-only import), so both sides agree on names and shapes. Their failure types
// are in ../contract.ts with every other failure of a run.
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
  /** The step's retry settings that the activity applies (absent: the defaults). */
  retry?: AgentRetry;
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

export interface PalletActivities {
  callAgent(req: CallAgentRequest): Promise<CallAgentReply>;
  loadDefinition(req: LoadDefinitionRequest): Promise<LoadedDefinition>;
}
