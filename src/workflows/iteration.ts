// One iteration of a for_each step: the walker its body steps run with. Templates and
// expressions see the iteration's `item` and `index`, and `steps.<id>.outputs` of its own
// body steps before the run's. Everything that leaves a trace outside the walk (activity and
// child workflow ids, the live state, reuse and continue-as-new) names a body step by its
// qualified id, `<loop>[<index>].<step>`, so that iterations never collide. Sandbox code.
import type { ContainerSummary, ReuseOffer, RunState, WaitingStep } from '../contract';
import type { LoopFrame } from '../dsl/templates';
import type { DefinitionSource, ErrorHandling, SequentialStep, Step } from '../dsl/types';
import type { Effects, Scope, Walker } from './steps/types';

/** What an iteration needs of the run it belongs to. */
export interface IterationRoot extends Walker {
  readonly state: RunState;
  /** Resolves templates and expressions with an iteration's frame. */
  resolveIn(value: unknown, loop: LoopFrame): unknown;
  /** Runs a step with `walker` (an iteration), shown in the live state as `id`. */
  runStepAs(walker: Walker, id: string, step: Step, scope: Scope): Promise<void>;
  /** Registers a finished step with `compensate` steps, to be run by `walker` (its iteration). */
  addCompensable(step: SequentialStep, walker: Walker): void;
  noteKey(stepId: string, key: string): void;
}

export class IterationWalker implements Walker {
  readonly effects: Effects;
  lastFinished: { stepId: string; result?: { value: unknown } } | undefined;

  constructor(
    private readonly root: IterationRoot,
    /** `<loop>[<index>].`, nested loops' prefixes first. */
    private readonly prefix: string,
    readonly loop: LoopFrame,
    /** A batch child walking as its parent's iteration: finished steps are recorded in the batch's result too. */
    private readonly records = false,
  ) {
    const rename = <T extends { step: { id: string } }>(call: T): T => ({ ...call, step: { ...call.step, id: this.qualified(call.step.id) } });
    const base = root.effects;
    this.effects = {
      ...base,
      callAgent: (call) => base.callAgent(rename(call)),
      runWorkflow: (call) => base.runWorkflow(rename(call)),
      ...(base.pinWorkflow ? { pinWorkflow: (call) => base.pinWorkflow!(rename(call)) } : {}),
      // A batch of a parallel step here is this iteration's: named after it, seeing its item and index.
      ...(base.batches
        ? {
            batches: {
              allowed: base.batches.allowed,
              run: (batch) => base.batches!.run({ ...rename(batch), frame: { prefix: this.prefix, item: loop.item, index: loop.index } }),
            },
          }
        : {}),
      ...(base.sleep ? { sleep: (call) => base.sleep!(rename(call)) } : {}),
      // A wait named after its step is named after the qualified step: each iteration its own.
      ...(base.waitForEvent
        ? { waitForEvent: (call) => base.waitForEvent!({ ...rename(call), event: call.event === call.step.id ? this.qualified(call.event) : call.event }) }
        : {}),
    };
  }

  /** The id a body step is known by outside this iteration. */
  qualified(stepId: string): string {
    return `${this.prefix}${stepId}`;
  }

  /** The stored output of one of this iteration's steps, or undefined when it did not run. */
  outputOf(stepId: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.loop.outputs, stepId) ? this.loop.outputs[stepId] : undefined;
  }

  /** A for_each step inside this iteration: its iterations see their own item, and this one's steps. */
  iteration(loopId: string, index: number, item: unknown, seed: Record<string, unknown> = {}): IterationWalker {
    return new IterationWalker(this.root, `${this.prefix}${loopId}[${index}].`, { item, index, outputs: { ...this.loop.outputs, ...seed } });
  }

  resolve(value: unknown): unknown {
    return this.root.resolveIn(value, this.loop);
  }

  async runSteps(steps: Step[], scope: Scope): Promise<void> {
    for (const step of steps) await this.runStep(step, scope);
  }

  async runStep(step: Step, scope: Scope): Promise<void> {
    await this.root.runStepAs(this, this.qualified(step.id), step, scope);
  }

  completedOutput(stepId: string): { stored: unknown } | undefined {
    return this.root.completedOutput(this.qualified(stepId));
  }

  wasFinished(stepId: string): boolean {
    return this.root.wasFinished(this.qualified(stepId));
  }

  visibleOutputs(): Record<string, unknown> {
    return { ...this.root.visibleOutputs(), ...this.loop.outputs };
  }

  notePassed(stepId: string): void {
    this.root.notePassed(this.qualified(stepId));
  }

  offeredResult(step: SequentialStep, inputs: Record<string, unknown>): ReuseOffer | undefined {
    // Keyed by the step as written (as retry computes it from the definition), found by its qualified id.
    return this.root.offeredResult(step, inputs, this.qualified(step.id));
  }

  pinnedSource(stepId: string): DefinitionSource | undefined {
    return this.root.pinnedSource(this.qualified(stepId));
  }

  notePinned(stepId: string, source: DefinitionSource): void {
    this.root.notePinned(this.qualified(stepId), source);
  }

  noteKey(stepId: string, key: string): void {
    this.root.noteKey(this.qualified(stepId), key);
  }

  /** Body steps are not recorded in the run's result (their for_each step is): they live in the iteration and the live state (a batch child records them for its parent). */
  finish(stepId: string, stored: unknown, scope: Scope, result?: { value: unknown }): void {
    const id = this.qualified(stepId);
    this.lastFinished = { stepId, result };
    this.loop.outputs[stepId] = stored;
    this.root.state.step_outputs[id] = { outputs: stored };
    this.root.state.finished.push(id);
    if (this.records) scope.record(stepId, stored);
  }

  setOutput(stepId: string, stored: unknown): void {
    this.loop.outputs[stepId] = stored;
  }

  get errorHandling(): ErrorHandling | undefined {
    return this.root.errorHandling;
  }

  noteCompensable(step: SequentialStep): void {
    this.root.addCompensable(step, this);
  }

  noteRecovered(stepId: string, how: 'on_error' | 'continue_on_error'): void {
    this.root.noteRecovered(this.qualified(stepId), how);
  }

  noteContainer(stepId: string, summary: ContainerSummary): void {
    this.root.noteContainer(this.qualified(stepId), summary);
  }

  noteWaiting(stepId: string, waiting?: WaitingStep): void {
    const event = waiting && (waiting.event === stepId ? this.qualified(stepId) : waiting.event);
    this.root.noteWaiting(this.qualified(stepId), waiting && { ...waiting, step: this.qualified(waiting.step), event: event! });
  }
}
