// What `pallet serve`'s protocol front ends (A2A in a2a.ts, MCP in mcp.ts) need from the
// runs behind them. runs.ts implements it on Temporal: the server keeps no state of its own,
// so any instance can answer for any run (a task id is a Temporal workflow id).
import type { PalletEvent, WaitingStep } from '../contract';

/** A stored workflow offered as an A2A skill and an MCP tool. */
export interface ServedWorkflow {
  /** The definition's `metadata.id` (e.g. code-generation-v1): the skill id and the tool name. */
  id: string;
  name: string;
  description: string;
  version?: string;
  tags: string[];
  /** JSON Schema of the workflow's input (the definition's `metadata.input_schema`), if declared. */
  inputSchema?: Record<string, unknown>;
}

export type ServedRunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** A run as a caller sees it. */
export interface ServedRun {
  /** The Temporal workflow id: the A2A task id. */
  runId: string;
  workflow: string;
  status: ServedRunStatus;
  /** The run's result (`step_outputs`, `final_output`, ...) once completed, claims resolved. */
  result?: unknown;
  /** Why it failed or was cancelled. */
  error?: string;
  /** Wait steps waiting for their event now (status `waiting`). */
  waiting?: WaitingStep[];
  /** How far along: steps done, and the ones running now. */
  progress?: { done: number; running: string[] };
}

export interface WorkflowRuns {
  /** The workflows this server exposes (the registry's or PALLET_WORKFLOWS_DIR's, filtered by configuration). */
  catalog(): Promise<ServedWorkflow[]>;
  /**
   * Starts a run of `workflow` with `input`. `requestKey` (the A2A messageId, an MCP request
   * id) makes it idempotent: the same key gives the same run, started once.
   */
  start(workflow: string, input: Record<string, unknown>, requestKey: string): Promise<ServedRun>;
  /** The run now; undefined when there is no such Pallet run. */
  get(runId: string): Promise<ServedRun | undefined>;
  /** Resolves when the run ends or needs an answer (status `waiting`), calling onChange as it progresses. */
  follow(runId: string, onChange?: (run: ServedRun) => void, signal?: AbortSignal): Promise<ServedRun>;
  cancel(runId: string): Promise<ServedRun>;
  /** Answers a waiting run's wait step, exactly as `pallet approve` does (the `event` update). */
  answer(runId: string, event: PalletEvent): Promise<ServedRun>;
}
