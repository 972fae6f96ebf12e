// The names of the language's step types and wait outcomes: plain constants in a leaf module
// (no imports), shared by the schema, the kinds table, charts and the workflow sandbox.

/** The step types the interpreter knows; each has a schema (schema.ts), a kind (step-kinds.ts) and a runner (workflows/steps). */
export const STEP_TYPES = ['sequential', 'parallel', 'conditional', 'switch', 'sleep', 'wait', 'for_each', 'repeat'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** The outcomes of a wait step, each the name of a branch. */
export const WAIT_OUTCOMES = ['approved', 'rejected', 'timed_out'] as const;
export type WaitOutcome = (typeof WAIT_OUTCOMES)[number];
