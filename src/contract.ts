// The contract between the interpreter workflow and everything that talks to it (client,
// CLI, activities, tests): its input, the `state` query and its shape, and the type of every
// failure a run can end with. Both sides import this one module; it is sandbox-safe (the
// workflow imports it too), so it holds only data shapes and Temporal definitions.
import { defaultPayloadConverter } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { DefinitionSource, WorkflowDefinition } from './dsl/types';

/** The skill that runs another Pallet workflow (a Temporal child workflow) instead of an agent. */
export const EXECUTE_WORKFLOW_SKILL = 'execute_workflow';

export interface PalletWorkflowInput {
  /** The definition to run. When absent it is loaded by an activity from `source.ref`. */
  definition?: WorkflowDefinition;
  source?: DefinitionSource;
  input?: Record<string, unknown>;
  /** Stored outputs of steps finished by an earlier run (`pallet retry`): not called again. */
  completed?: Record<string, unknown>;
  /** Definitions an earlier run pinned for its `execute_workflow` steps, by step id: run those again. */
  pinned?: Record<string, DefinitionSource>;
  /**
   * The run whose agent calls these continue (`pallet retry`): call ids (Idempotency-Key)
   * are made from it, so a step in flight when that run failed is recognised when called again.
   */
  callsOf?: string;
}

/** What a container step decided, for people following a run (not part of its result). */
export interface ContainerSummary {
  step_type: 'parallel' | 'conditional' | 'switch';
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
  /** Stored output of each finished agent or workflow step (the run's `step_outputs` so far). */
  step_outputs: Record<string, { outputs: unknown }>;
  /** What each container step decided. */
  containers: Record<string, ContainerSummary>;
  /** The exact definition each `execute_workflow` step runs, resolved once. */
  pinned: Record<string, DefinitionSource>;
  error?: string;
}

export const stateQuery = defineQuery<RunState | null>('state');

/** Details attached to a StepFailed failure, for the CLI and for `retry`. */
export interface StepFailureDetails {
  stepId: string;
  skill?: string;
  /** Container steps enclosing the failed one, outermost first. */
  within: string[];
  reason: string;
}

/**
 * Every failure type a run or an activity ends with. The CLI decides what to say by these,
 * and the agent activity's retry policy by whether a type is marked non-retryable.
 */
export const FailureTypes = {
  /** A step failed; details: StepFailureDetails. */
  stepFailed: 'StepFailed',
  /** The definition could not be loaded (unknown id, invalid file, registry error). */
  definitionLoadFailed: 'DefinitionLoadFailed',
  /** The run's result (or an agent's) would not fit in a Temporal payload. */
  resultTooLarge: 'ResultTooLarge',
  /** A step's inputs after templating (or a child's input) would not fit in a Temporal payload. */
  inputTooLarge: 'InputTooLarge',
  invalidInput: 'InvalidInput',
  agentUnavailable: 'AgentUnavailable',
  agentServerError: 'AgentServerError',
  /** The agent did not answer within the step's timeout. */
  agentTimeout: 'AgentTimeout',
  agentRejected: 'AgentRejected',
  agentSkillError: 'AgentSkillError',
  agentBadResponse: 'AgentBadResponse',
  unknownSkill: 'UnknownSkill',
  unknownWorkflow: 'UnknownWorkflow',
  invalidDefinition: 'InvalidDefinition',
  registryError: 'RegistryError',
} as const;

/** The size of a value as Temporal sends it, to compare with MAX_PAYLOAD_BYTES. */
export function payloadSize(value: unknown): number {
  return defaultPayloadConverter.toPayload(value).data?.length ?? 0;
}
