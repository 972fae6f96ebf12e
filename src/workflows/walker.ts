// The step walker: runs a definition's step graph against a set of effects (agent calls,
// child workflows, concurrency). It is deterministic and free of Temporal APIs, so the
// interpreter workflow drives it with Temporal effects and unit tests with plain ones.
// New step types are added to STEP_RUNNERS.
import { ApplicationFailure } from '@temporalio/common';
import { isTruthy, pythonStr, resolveValue, type TemplateContext } from '../dsl/templates';
import type { RunResult, Step, StepType, WorkflowDefinition } from '../dsl/types';

/** The skill that runs another Pallet workflow (a Temporal child workflow) instead of an agent. */
export const EXECUTE_WORKFLOW_SKILL = 'execute_workflow';

export interface AgentCall {
  step: Step;
  inputs: Record<string, unknown>;
}

export interface ChildCall {
  step: Step;
  workflowId: string;
  input: Record<string, unknown>;
}

/** What the walker needs from the outside world. Rejections carry the root cause. */
export interface StepEffects {
  callAgent(call: AgentCall): Promise<unknown>;
  runWorkflow(call: ChildCall): Promise<unknown>;
  /** Runs tasks concurrently; on the first failure cancels the others and rejects with it. */
  all<T>(tasks: (() => Promise<T>)[]): Promise<T[]>;
  /** Turns whatever a failed effect rejected with into a one-line reason. */
  describeError(err: unknown, step: Step): string;
  /** Told whenever a step starts or finishes (e.g. to show progress). */
  onChange?(state: RunState): void;
}

/** Live state of a run, answered to the `state` query. */
export interface RunState {
  status: 'running' | 'completed' | 'failed';
  workflow: { id: string; name: string; version: string };
  running: string[];
  finished: string[];
  /** Steps whose outputs were taken from an earlier run instead of being run again. */
  reused: string[];
  step_outputs: Record<string, { outputs: unknown }>;
  error?: string;
}

/** Details attached to a failed step, for the CLI and for `retry`. */
export interface StepFailureDetails {
  stepId: string;
  skill?: string;
  /** Container steps enclosing the failed one, outermost first. */
  within: string[];
  reason: string;
}

export const STEP_FAILED = 'StepFailed';

type StepRunner = (run: WorkflowRun, step: Step, within: string[]) => Promise<unknown>;

const STEP_RUNNERS: Record<StepType, StepRunner> = {
  sequential: (run, step, within) => run.callStep(step, within),
  parallel: (run, step, within) => run.runParallel(step, within),
  conditional: (run, step, within) => {
    const value = run.resolve(step.condition ?? '');
    const branch = isTruthy(value) ? 'if_true' : 'if_false';
    return run.runBranch(step, branch, within);
  },
  switch: (run, step, within) => {
    const value = pythonStr(run.resolve(step.condition ?? ''));
    const branches = step.branches ?? {};
    const branch = Object.prototype.hasOwnProperty.call(branches, value) ? value : 'default';
    return run.runBranch(step, branch, within);
  },
};

export class WorkflowRun {
  readonly state: RunState;
  private readonly outputs: Record<string, unknown> = {};
  private lastOutput: unknown = null;

  constructor(
    private readonly definition: WorkflowDefinition,
    private readonly input: Record<string, unknown>,
    private readonly effects: StepEffects,
    /** Stored outputs of steps an earlier run finished: they are not called again. */
    private readonly completed: Record<string, unknown> = {},
  ) {
    const { id, name, version } = definition.metadata;
    this.state = { status: 'running', workflow: { id, name, version }, running: [], finished: [], reused: [], step_outputs: {} };
  }

  async run(): Promise<RunResult> {
    try {
      await this.runSteps(this.definition.steps, []);
    } catch (err) {
      this.state.status = 'failed';
      this.state.error = err instanceof Error ? err.message : String(err);
      this.effects.onChange?.(this.state);
      throw err;
    }
    this.state.status = 'completed';
    this.effects.onChange?.(this.state);
    const { metadata } = this.definition;
    return {
      workflow_id: metadata.id,
      workflow_name: metadata.name,
      workflow_version: metadata.version,
      initial_input: this.input,
      step_outputs: this.state.step_outputs,
      final_output: this.lastOutput,
    };
  }

  resolve(value: unknown): unknown {
    const ctx: TemplateContext = { input: this.input, outputs: this.outputs };
    return resolveValue(value, ctx);
  }

  private async runSteps(steps: Step[], within: string[]): Promise<unknown> {
    let last: unknown = null;
    for (const step of steps) last = await this.runStep(step, within);
    return last;
  }

  private async runStep(step: Step, within: string[]): Promise<unknown> {
    let stored: unknown;
    if (Object.prototype.hasOwnProperty.call(this.completed, step.id) && step.step_type === 'sequential') {
      stored = this.completed[step.id];
      this.state.reused.push(step.id);
    } else {
      this.state.running.push(step.id);
      this.effects.onChange?.(this.state);
      try {
        stored = await STEP_RUNNERS[step.step_type](this, step, within);
      } finally {
        this.state.running = this.state.running.filter((id) => id !== step.id);
      }
    }
    this.outputs[step.id] = stored;
    this.state.step_outputs[step.id] = { outputs: stored };
    this.state.finished.push(step.id);
    this.lastOutput = stored;
    this.effects.onChange?.(this.state);
    return stored;
  }

  /** Calls the step's agent (or child workflow) and returns what is stored for it. */
  async callStep(step: Step, within: string[]): Promise<unknown> {
    const inputs = this.resolve(step.inputs) as Record<string, unknown>;
    let result: unknown;
    try {
      if (step.skill === EXECUTE_WORKFLOW_SKILL) {
        const workflowId = inputs.workflow_id;
        if (typeof workflowId !== 'string' || workflowId === '') {
          throw ApplicationFailure.nonRetryable('input "workflow_id" must name a workflow', 'InvalidInput');
        }
        const input = inputs.input ?? {};
        result = await this.effects.runWorkflow({ step, workflowId, input: input as Record<string, unknown> });
      } else {
        result = await this.effects.callAgent({ step, inputs });
      }
    } catch (err) {
      throw stepFailure(step, within, this.effects.describeError(err, step), err);
    }
    return step.outputs ? { [step.outputs]: result } : result;
  }

  async runParallel(step: Step, within: string[]): Promise<unknown> {
    const subSteps = step.branches?.steps ?? [];
    const inside = [...within, step.id];
    const results = await this.effects.all(subSteps.map((sub) => () => this.runStep(sub, inside)));
    const stored: Record<string, unknown> = {};
    subSteps.forEach((sub, i) => (stored[sub.id] = results[i]));
    return stored;
  }

  async runBranch(step: Step, branch: string, within: string[]): Promise<unknown> {
    const steps = step.branches?.[branch];
    if (!steps) return null;
    return this.runSteps(steps, [...within, step.id]);
  }
}

function stepFailure(step: Step, within: string[], reason: string, cause: unknown): ApplicationFailure {
  const where = within.length > 0 ? ` (in ${within.map((id) => `"${id}"`).join(' > ')})` : '';
  const skill = step.skill ? `, skill ${step.skill}` : '';
  const details: StepFailureDetails = { stepId: step.id, skill: step.skill, within, reason };
  return ApplicationFailure.create({
    message: `Step "${step.id}"${where} failed${skill ? ` (${skill.slice(2)})` : ''}: ${reason}`,
    type: STEP_FAILED,
    nonRetryable: true,
    details: [details],
    cause: cause instanceof Error ? cause : undefined,
  });
}
