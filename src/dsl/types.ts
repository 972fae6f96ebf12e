// Plain data types of Pallet workflows and runs. Free of value imports (but the leaf step-types.ts) so that both the
// workflow sandbox and Node-side code can use them.

export { STEP_TYPES, WAIT_OUTCOMES, type StepType, type WaitOutcome } from './step-types';

// The definition's types are inferred from its zod schema (type-only: nothing of zod reaches
// the workflow sandbox through this file).
export type {
  ConditionalStep,
  ErrorHandling,
  ForEachStep,
  RepeatStep,
  ParallelStep,
  RetrySettings,
  SequentialStep,
  SleepStep,
  Step,
  SwitchStep,
  WaitStep,
  WorkflowDefinition,
  WorkflowMetadata,
} from './schema';

/** Where a definition came from, recorded in the run so that it can be traced and re-pulled. */
export interface DefinitionSource {
  /** What the user asked for: a file path, a workflow id, or a registry reference. */
  ref: string;
  /**
   * `sha256:...` pinning the exact definition: for a file or folder, the digest of its
   * bytes; for the registry, the manifest digest (what `name@sha256:...` pulls again).
   */
  digest: string;
  /** Registry repository and tag when pulled from a registry. */
  repository?: string;
  tag?: string;
}

/** The result of a run, in the shape Pallet's engine returns. */
export interface RunResult {
  workflow_id: string;
  workflow_name: string;
  workflow_version: string;
  initial_input: Record<string, unknown>;
  step_outputs: Record<string, { outputs: unknown }>;
  final_output: unknown;
}

/** Temporal refuses payloads over 2 MB: agent results and run results stay under this. */
export const MAX_PAYLOAD_BYTES = 1_900_000;
