// The failure types a run, a step or an activity ends with: plain constants in a leaf module
// (no imports), so that the sandbox, the DSL and the CLI can all name them without importing
// each other. contract.ts re-exports them.

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
  /** A `${{ }}` expression could not be evaluated (no such key, wrong types, a result that is not JSON). */
  expressionError: 'ExpressionError',
} as const;

/** Failure types a retry policy may name: what can go wrong in an agent call. */
export const AGENT_FAILURE_TYPES = [
  FailureTypes.agentUnavailable,
  FailureTypes.agentServerError,
  FailureTypes.agentTimeout,
  FailureTypes.agentRejected,
  FailureTypes.agentSkillError,
  FailureTypes.agentBadResponse,
] as const;

/** The failure type of a refused event: no wait step is waiting for it; details: [{ waiting: WaitingStep[] }]. */
export const NOT_WAITING = 'NotWaiting';
