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
