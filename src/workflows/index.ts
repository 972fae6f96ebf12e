// The workflow bundle's entry point: every workflow type the worker registers.
export { palletWorkflow, stateQuery } from './interpreter';
export type { PalletWorkflowInput } from './interpreter';
