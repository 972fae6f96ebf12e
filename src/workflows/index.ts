// The workflow bundle's entry point: every workflow type the worker registers.
export { palletWorkflow } from './interpreter';
export { stateQuery } from '../contract';
export type { PalletWorkflowInput } from '../contract';
