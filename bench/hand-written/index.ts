// The bench worker's workflows: the interpreter and the hand-written reference in one bundle,
// so both run on the same worker, task queue and activities.
export { palletWorkflow } from '../../src/workflows';
export { handWrittenChain, handWrittenFanOut, handWrittenMap } from './workflows';
