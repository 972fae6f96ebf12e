// The step walker: runs a definition's step graph against a set of effects (agent calls,
// child workflows, concurrency). It is deterministic and free of Temporal APIs, so the
// interpreter workflow drives it with Temporal effects and unit tests with plain ones.
// Each step type runs from its own module in ./steps; this file dispatches, keeps the live
// state and records results in Pallet's order.
import {
  stepKey,
  type ContainerSummary,
  type IterationFrame,
  type ReuseOffer,
  type RunState,
  type StateRef,
  type StoredState,
  type WaitingStep,
} from '../contract';
import { resolveValue, type LoopFrame } from '../dsl/templates';
import type { DefinitionSource, ErrorHandling, RunResult, SequentialStep, Step, WorkflowDefinition } from '../dsl/types';
import { IterationWalker, type IterationRoot } from './iteration';
import { noteStepEnd, noteWaitChange, traceStep } from './metrics';
import { QUICK_CARRIED_STEPS } from './patches';
import { compensate } from './steps/errors';
import { runnerOf } from './steps';
import { withDefaults, type Effects, type Scope, type StepEffects, type Walker } from './steps/types';

export type { AgentCall, ChildCall, PinnedWorkflow, StepEffects } from './steps/types';

/** What an earlier run of the same definition leaves to this one (`pallet retry`). */
export interface Resume {
  /** Stored outputs of steps it finished: they are not called again. */
  completed?: Record<string, unknown>;
  /** Results of steps it finished, taken only by a step with the same key (stepKey). */
  offers?: Record<string, ReuseOffer>;
  /** Stored outputs of steps earlier generations of this run finished (continue-as-new). */
  carried?: Record<string, unknown>;
  /** Steps without outputs (sleeps) that earlier generations finished. */
  passed?: string[];
  /** Definitions it pinned for `execute_workflow` steps. */
  pinned?: Record<string, DefinitionSource>;
  /** Outputs templates see from the start: a batch of a parent's parallel step reads the parent's. */
  context?: Record<string, unknown>;
  /** Keys (stepKey) of the carried call steps. */
  keys?: Record<string, string>;
  /** Carried outputs kept in the data store (continue-as-new with a large state). */
  stored?: StoredState;
  /** A batch of a parallel step inside a loop: its steps run as that iteration's. */
  frame?: IterationFrame;
}

export class WorkflowRun implements IterationRoot {
  readonly state: RunState;
  readonly effects: Effects;
  /** What templates read as `steps.<id>.outputs`. */
  private readonly outputs: Record<string, unknown> = {};
  /** Finished steps with `compensate` steps, in the order they finished, with the walker (run or iteration) they ran in. */
  private readonly compensable: { step: SequentialStep; walker: Walker }[] = [];
  lastFinished: { stepId: string; result?: { value: unknown } } | undefined;
  /** Keys (stepKey) of the call steps finished so far, carried ones included: a retry offers them. */
  readonly keys: Record<string, string>;
  /** Whether carried steps are taken without running them as steps (QUICK_CARRIED_STEPS). */
  private quickCarried = false;

  constructor(
    private readonly definition: WorkflowDefinition,
    private readonly input: Record<string, unknown>,
    effects: StepEffects,
    private readonly resume: Resume = {},
  ) {
    this.effects = withDefaults(effects);
    for (const [id, stored] of Object.entries(resume.context ?? {})) this.outputs[id] = stored;
    this.keys = { ...resume.keys };
    const { id, name, version } = definition.metadata;
    this.state = { status: 'running', workflow: { id, name, version }, running: [], finished: [], reused: [], step_outputs: {}, containers: {}, pinned: {} };
  }

  async run(): Promise<RunResult> {
    // Pallet's result: one entry per agent or workflow step, in the order Pallet records them
    // (a parallel step's in declaration order once all finished); containers have none.
    const recorded: [string, unknown][] = [];
    const scope: Scope = { within: [], inBranch: false, record: (id, stored) => recorded.push([id, stored]) };
    // Asked only when something is carried, so a run's first generation records no marker.
    const { carried, stored } = this.resume;
    if ((carried && Object.keys(carried).length) || (stored && Object.keys(stored.index).length)) this.quickCarried = this.effects.patched(QUICK_CARRIED_STEPS);
    try {
      // A batch inside a loop walks as its iteration, recording its branches for the parent.
      const frame = this.resume.frame;
      if (frame)
        await new IterationWalker(this, frame.prefix, { item: frame.item, index: frame.index, outputs: {} }, true).runSteps(this.definition.steps, scope);
      else await this.runSteps(this.definition.steps, scope);
    } catch (caught) {
      if (this.effects.isGenerationEnd(caught)) throw caught;
      const err = await compensate(this, this.compensable, caught);
      this.state.status = 'failed';
      this.state.error = err instanceof Error ? err.message : String(err);
      this.effects.onChange(this.state);
      throw err;
    }
    this.state.status = 'completed';
    this.effects.onChange(this.state);
    const { metadata } = this.definition;
    const step_outputs: Record<string, { outputs: unknown }> = {};
    for (const [id, stored] of recorded) step_outputs[id] = { outputs: stored };
    return {
      workflow_id: metadata.id,
      workflow_name: metadata.name,
      workflow_version: metadata.version,
      initial_input: this.input,
      step_outputs,
      // The last recorded step's output; `{}` when no step ran (as Pallet).
      final_output: recorded.length > 0 ? recorded[recorded.length - 1][1] : {},
    };
  }

  resolve(value: unknown): unknown {
    return this.resolveIn(value);
  }

  resolveIn(value: unknown, loop?: LoopFrame): unknown {
    return resolveValue(value, loop ? { input: this.input, outputs: this.outputs, loop } : { input: this.input, outputs: this.outputs });
  }

  iteration(loopId: string, index: number, item: unknown, seed: Record<string, unknown> = {}): IterationWalker {
    return new IterationWalker(this, `${loopId}[${index}].`, { item, index, outputs: { ...seed } });
  }

  async runSteps(steps: Step[], scope: Scope): Promise<void> {
    for (const step of steps) if (!this.takeCarried(step, scope)) await this.runStep(step, scope);
  }

  /**
   * A call step an earlier generation finished, taken at once as runSequential would take it
   * (no awaits, span or progress update): re-walking thousands of them each generation cost a
   * promise (and its stack trace, kept by the SDK) per await, in the generation's first task.
   */
  private takeCarried(step: Step, scope: Scope): boolean {
    if (!this.quickCarried || step.step_type !== 'sequential' || step.on_error) return false;
    const carried = this.carriedOutput(step.id);
    if (!carried) return false;
    this.finish(step.id, carried.stored, scope);
    if (step.compensate) this.noteCompensable(step);
    return true;
  }

  async runStep(step: Step, scope: Scope): Promise<void> {
    await this.runStepAs(this, step.id, step, scope);
  }

  async runStepAs(walker: Walker, id: string, step: Step, scope: Scope): Promise<void> {
    this.state.running.push(id);
    this.effects.onChange(this.state);
    let failure: { error: unknown } | undefined;
    try {
      await traceStep(step, id, this.effects, () => runnerOf(step)(walker, step, scope));
    } catch (error) {
      failure = { error };
      throw error;
    } finally {
      this.state.running = this.state.running.filter((r) => r !== id);
      noteStepEnd(step, id, failure, this.effects);
    }
    this.effects.onChange(this.state);
  }

  completedOutput(stepId: string): { stored: unknown } | undefined {
    const carried = this.carriedOutput(stepId);
    if (carried) return carried;
    const { completed } = this.resume;
    if (!completed || !Object.prototype.hasOwnProperty.call(completed, stepId)) return undefined;
    this.state.reused.push(stepId);
    return { stored: completed[stepId] };
  }

  /** The stored output of a step an earlier generation of this run finished: not a reuse, the same run going on. */
  private carriedOutput(stepId: string): { stored: unknown } | undefined {
    const { carried, stored } = this.resume;
    if (carried && Object.prototype.hasOwnProperty.call(carried, stepId)) return { stored: carried[stepId] };
    if (stored && Object.prototype.hasOwnProperty.call(stored.index, stepId))
      return { stored: { $pallet_state: stored.segments[stored.index[stepId]], step: stepId } satisfies StateRef };
    return undefined;
  }

  wasFinished(stepId: string): boolean {
    if (this.resume.passed?.includes(stepId)) return true;
    return [this.resume.carried, this.resume.completed, this.resume.stored?.index].some(
      (map) => map !== undefined && Object.prototype.hasOwnProperty.call(map, stepId),
    );
  }

  visibleOutputs(): Record<string, unknown> {
    return { ...this.outputs };
  }

  notePassed(stepId: string): void {
    (this.state.passed ??= []).push(stepId);
  }

  offeredResult(step: SequentialStep, inputs: Record<string, unknown>, at: string = step.id): ReuseOffer | undefined {
    const offers = this.resume.offers ?? {};
    if (!Object.prototype.hasOwnProperty.call(offers, at)) return undefined;
    if (offers[at].key !== stepKey(step, inputs)) {
      (this.state.rerun ??= []).push(at);
      return undefined;
    }
    this.state.reused.push(at);
    return offers[at];
  }

  noteKey(stepId: string, key: string): void {
    this.keys[stepId] = key;
  }

  pinnedSource(stepId: string): DefinitionSource | undefined {
    return this.resume.pinned?.[stepId];
  }

  notePinned(stepId: string, source: DefinitionSource): void {
    this.state.pinned[stepId] = source;
  }

  get errorHandling(): ErrorHandling | undefined {
    return this.definition.error_handling;
  }

  setOutput(stepId: string, stored: unknown): void {
    this.outputs[stepId] = stored;
  }

  noteCompensable(step: SequentialStep): void {
    this.compensable.push({ step, walker: this });
  }

  addCompensable(step: SequentialStep, walker: Walker): void {
    this.compensable.push({ step, walker });
  }

  noteRecovered(stepId: string, how: 'on_error' | 'continue_on_error'): void {
    (this.state.recovered ??= {})[stepId] = how;
  }

  finish(stepId: string, stored: unknown, scope: Scope, result?: { value: unknown }): void {
    this.lastFinished = { stepId, result };
    this.outputs[stepId] = stored;
    this.state.step_outputs[stepId] = { outputs: stored };
    this.state.finished.push(stepId);
    scope.record(stepId, stored);
  }

  noteContainer(stepId: string, summary: ContainerSummary): void {
    this.state.containers[stepId] = summary;
    this.effects.onChange(this.state);
  }

  noteWaiting(stepId: string, waiting?: WaitingStep): void {
    noteWaitChange(this.state.waiting?.some((w) => w.step === stepId) ?? false, waiting !== undefined);
    const others = (this.state.waiting ?? []).filter((w) => w.step !== stepId);
    if (waiting) others.push(waiting);
    if (others.length) this.state.waiting = others;
    else delete this.state.waiting;
    this.effects.onChange(this.state);
  }
}
