// What a step runner works with: the walker's services and the effects of the outside world.
import type { ContainerSummary, IterationFrame, ReuseOffer, RunState, WaitingStep, WaitOutput } from '../../contract';
import type {
  DefinitionSource,
  ErrorHandling,
  ParallelStep,
  RetrySettings,
  RunResult,
  SequentialStep,
  SleepStep,
  Step,
  WaitStep,
  WorkflowDefinition,
} from '../../dsl/types';

export interface AgentCall {
  step: SequentialStep;
  inputs: Record<string, unknown>;
  /** The step's retry settings over the workflow's error_handling defaults (absent: none given). */
  retry?: RetrySettings;
}

export interface ChildCall {
  step: SequentialStep;
  /** The workflow named by the step (an id or a registry reference). */
  workflowId: string;
  input: Record<string, unknown>;
}

/** A child workflow's definition resolved to an exact digest. */
export interface PinnedWorkflow {
  definition: WorkflowDefinition;
  source: DefinitionSource;
}

/** A sleep step's timer: `ms` from now, or until `until` (ms since the epoch; a time past does not wait). */
export interface SleepCall {
  step: SleepStep;
  ms?: number;
  until?: number;
}

/** A wait step waiting for its event. */
export interface WaitCall {
  step: WaitStep;
  /** The name its event is sent under. */
  event: string;
  /** Absent: no timeout. */
  timeoutMs?: number;
  /** Told once the wait is pending (events for it are taken from then on), with its times. */
  onWaiting(times: Pick<WaitingStep, 'since' | 'timeout_at'>): void;
}

/** Some branches of a large parallel step, to run as one child workflow. */
export interface BranchBatch {
  step: ParallelStep;
  index: number;
  branches: Step[];
  context: Record<string, unknown>;
  /** The loop iteration the parallel step runs in, if any. */
  frame?: IterationFrame;
}

/** What the walker needs from the outside world. Rejections carry the root cause. */
export interface StepEffects {
  callAgent(call: AgentCall): Promise<unknown>;
  /**
   * Resolves a child workflow to an exact definition once (`digest`: the one an earlier run
   * pinned). Optional: without it children run by reference.
   */
  pinWorkflow?(call: ChildCall & { digest?: string }): Promise<PinnedWorkflow | undefined>;
  runWorkflow(call: ChildCall & { pinned?: PinnedWorkflow }): Promise<unknown>;
  /** Runs tasks concurrently; on the first failure cancels the others and rejects with it. */
  all<T>(tasks: (() => Promise<T>)[]): Promise<T[]>;
  /** Turns whatever a failed effect rejected with into a one-line reason. */
  describeError(err: unknown, step: SequentialStep): string;
  /** Whether a change of the interpreter's commands applies (Temporal's `patched`); default yes. */
  patched?(changeId: string): boolean;
  /** Told whenever a step starts or finishes (e.g. to show progress). */
  onChange?(state: RunState): void;
  /** The innermost failure type of what a failed effect rejected with (e.g. AgentTimeout). */
  failureType?(err: unknown): string | undefined;
  /** Whether a rejection is the run being cancelled (nothing recovers from that). */
  isCancellation?(err: unknown): boolean;
  /** Runs work that must finish even when the run is being cancelled (compensation). */
  protect?<T>(work: () => Promise<T>): Promise<T>;
  /** A durable timer (sleep steps); without it a sleep step fails. */
  sleep?(call: SleepCall): Promise<void>;
  /** Waits for a wait step's event or its timeout (`data` null when none); without it a wait step fails. */
  waitForEvent?(call: WaitCall): Promise<WaitOutput>;
  /**
   * Called before each agent call or child workflow starts; may hold it (and end the walk
   * with a rejection) while the run moves on to a new history (continue-as-new).
   */
  beforeCall?(): Promise<void>;
  /** Whether a rejection is beforeCall ending this generation of the run (not a failure). */
  isGenerationEnd?(err: unknown): boolean;
  /**
   * Runs some branches of a large parallel step elsewhere (a child workflow), seeing `context`
   * as the outputs of the steps before it; resolves with what they recorded, in order.
   * Without it (or when it is not `allowed`) every branch runs here.
   */
  batches?: { allowed(): boolean; run(batch: BranchBatch): Promise<RunResult> };
}

/** The effects a walker works with: the optional ones filled in with what they mean when absent. */
export type Effects = StepEffects &
  Required<Pick<StepEffects, 'patched' | 'onChange' | 'failureType' | 'isCancellation' | 'protect' | 'beforeCall' | 'isGenerationEnd'>>;

/** StepEffects with their defaults filled in once: every patch applies, nothing is shown, nothing is protected or held. */
export function withDefaults(effects: StepEffects): Effects {
  return {
    patched: () => true,
    onChange: () => undefined,
    failureType: () => undefined,
    isCancellation: () => false,
    protect: (work) => work(),
    beforeCall: async () => undefined,
    isGenerationEnd: () => false,
    ...effects,
  };
}

/** Where a step runs: inside which containers, and where its result is recorded. */
export interface Scope {
  /** Container steps enclosing this one, outermost first. */
  within: string[];
  /** Directly inside a conditional or switch branch, where Pallet ignores `outputs`. */
  inBranch: boolean;
  /** Appends a finished agent or workflow step to the run's result, in Pallet's order. */
  record(stepId: string, stored: unknown): void;
}

/** The walker's services to step runners. */
export interface Walker {
  readonly effects: Effects;
  resolve(value: unknown): unknown;
  runSteps(steps: Step[], scope: Scope): Promise<void>;
  runStep(step: Step, scope: Scope): Promise<void>;
  /** The stored output an earlier run left for this step, if any (and notes its reuse). */
  completedOutput(stepId: string): { stored: unknown } | undefined;
  /** Whether an earlier run or generation finished this step (without taking its output). */
  wasFinished(stepId: string): boolean;
  /** The outputs templates can read here (a batch of a large parallel step takes them along). */
  visibleOutputs(): Record<string, unknown>;
  /** A step without an output (a sleep) finished: a later generation does not run it again. */
  notePassed(stepId: string): void;
  /** The result an earlier run offers for this step, when its key still matches (and notes its reuse). */
  offeredResult(step: SequentialStep, inputs: Record<string, unknown>, at?: string): ReuseOffer | undefined;
  /** A call step finished: its key (stepKey), carried into later generations so that a retry can offer it. */
  noteKey(stepId: string, key: string): void;
  pinnedSource(stepId: string): DefinitionSource | undefined;
  notePinned(stepId: string, source: DefinitionSource): void;
  /**
   * A call step finished: visible to templates and the live state, recorded in the scope.
   * `result`: what it returned, before it was stored under its `outputs` name.
   */
  finish(stepId: string, stored: unknown, scope: Scope, result?: { value: unknown }): void;
  /** The last call step that finished and what it returned (on_error takes its fallback's). */
  readonly lastFinished: { stepId: string; result?: { value: unknown } } | undefined;
  /** What templates see as `steps.<id>.outputs` before the step finishes (a failed step's error). */
  setOutput(stepId: string, stored: unknown): void;
  /** The workflow's error_handling defaults, for its call steps. */
  readonly errorHandling: ErrorHandling | undefined;
  /** A finished step with `compensate` steps: undone if the run fails after it. */
  noteCompensable(step: SequentialStep): void;
  /** A failed step that on_error or continue_on_error recovered. */
  noteRecovered(stepId: string, how: 'on_error' | 'continue_on_error'): void;
  noteContainer(stepId: string, summary: ContainerSummary): void;
  /** The walker of one iteration of a for_each step (`index`, `item`). */
  iteration(loopId: string, index: number, item: unknown, seed?: Record<string, unknown>): Iteration;
  /** A wait step started waiting (`waiting` given) or stopped (absent): the live state's `waiting`. */
  noteWaiting(stepId: string, waiting?: WaitingStep): void;
}

/** A walker for one iteration of a for_each step. */
export interface Iteration extends Walker {
  /** The stored output of one of its steps, or undefined when it did not run. */
  outputOf(stepId: string): unknown;
  /** Its steps' outputs (what the next iteration of a repeat step starts from). */
  readonly loop: { outputs: Record<string, unknown> };
}

export type StepRunner<S extends Step> = (walker: Walker, step: S, scope: Scope) => Promise<void>;

/**
 * A step's result as it is stored (what templates read as `steps.<id>.outputs`): `{ [outputs]: result }`
 * when the step names its outputs, except directly inside a conditional or switch branch, where Pallet
 * stores the bare result.
 */
export function storedOutput(step: { outputs?: string }, scope: Scope, result: unknown): unknown {
  return step.outputs && !scope.inBranch ? { [step.outputs]: result } : result;
}

/** The scope of the steps inside a container. */
export function inside(scope: Scope, stepId: string, changes: Partial<Scope> = {}): Scope {
  return { ...scope, within: [...scope.within, stepId], ...changes };
}
