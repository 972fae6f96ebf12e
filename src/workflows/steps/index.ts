// The step types and their runners. A new step type adds its name (dsl/step-types.ts), schema
// (dsl/schema.ts), kind (dsl/step-kinds.ts), a module here and a line in this table, its chart
// (dsl/graph.ts), docs and tests: docs/contributing.md#adding-a-step-type lists them all.
import type { Step, StepType } from '../../dsl/types';
import { runConditional } from './conditional';
import { runForEach } from './for-each';
import { runRepeat } from './repeat';
import { runParallel } from './parallel';
import { runSequential } from './sequential';
import { runSleep } from './sleep';
import { runSwitch } from './switch';
import type { StepRunner } from './types';
import { runWait } from './wait';

const STEP_RUNNERS: { [T in StepType]: StepRunner<Extract<Step, { step_type: T }>> } = {
  sequential: runSequential,
  parallel: runParallel,
  conditional: runConditional,
  switch: runSwitch,
  sleep: runSleep,
  wait: runWait,
  for_each: runForEach,
  repeat: runRepeat,
};

/** Runs a step with the runner of its type (TypeScript cannot relate the two by itself). */
export const runnerOf = (step: Step) => STEP_RUNNERS[step.step_type] as StepRunner<Step>;
