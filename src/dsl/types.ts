// Plain data types of a Pallet workflow definition. Kept free of imports so that both the
// workflow sandbox and Node-side code can use them.

/** The step types the interpreter knows. New types are added here and in the walker. */
export const STEP_TYPES = ['sequential', 'parallel', 'conditional', 'switch'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface Step {
  id: string;
  /** Required for sequential steps; optional on container steps (Pallet's files omit it). */
  skill?: string;
  inputs: Record<string, unknown>;
  /** When set, the step's result R is stored as `{ [outputs]: R }`. */
  outputs?: string;
  /** Seconds; the start-to-close timeout of one agent call. */
  timeout: number;
  step_type: StepType;
  condition?: string;
  /** parallel: `{ steps: [...] }`; conditional: `if_true` / `if_false`; switch: value → steps. */
  branches?: Record<string, Step[]>;
}

export interface WorkflowMetadata {
  id: string;
  name: string;
  version: string;
  description: string;
  tags: string[];
}

export interface WorkflowDefinition {
  metadata: WorkflowMetadata;
  steps: Step[];
  /** Free-form in Pallet and never read by its engine; kept for round-tripping. */
  error_handling?: Record<string, unknown>;
}

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
