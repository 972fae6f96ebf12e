// In-memory effects for the step walker: agents are plain functions, children are logged,
// and every call is recorded so tests can check what ran, in which order, with which inputs.
import { parseDefinition } from '../../../src/dsl/loader';
import type { WorkflowDefinition } from '../../../src/dsl/types';
import { WorkflowRun, type Resume, type StepEffects } from '../../../src/workflows/walker';

export function def(yaml: string): WorkflowDefinition {
  const parsed = parseDefinition(yaml, 'walker.yaml');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.definition;
}

/** A definition with a fixed header around the given `steps:` YAML. */
export const steps = (yaml: string) => def(`metadata: { id: w, name: W, version: "1" }\nsteps:\n${yaml}`);

export interface Log {
  calls: { step: string; skill?: string; inputs: unknown }[];
  children: { step: string; workflowId: string; input: unknown; digest?: string }[];
  patches: string[];
}

export type Skills = Record<string, (inputs: Record<string, unknown>) => unknown>;

export function effects(skills: Skills, log: Log, extra: Partial<StepEffects> = {}): StepEffects {
  return {
    async callAgent({ step, inputs }) {
      log.calls.push({ step: step.id, skill: step.skill, inputs });
      await Promise.resolve();
      const fn = skills[step.skill ?? ''];
      if (!fn) throw new Error(`no agent offers skill "${step.skill}"`);
      return fn(inputs);
    },
    async runWorkflow({ step, workflowId, input, pinned }) {
      log.children.push({ step: step.id, workflowId, input, digest: pinned?.source.digest });
      return { workflow_id: workflowId, final_output: 'child done' };
    },
    all: (tasks) => Promise.all(tasks.map((t) => t())),
    describeError: (err) => (err instanceof Error ? err.message : String(err)),
    ...extra,
  };
}

export const newLog = (): Log => ({ calls: [], children: [], patches: [] });

/** Runs a definition with the given skills; returns the result, the run and the log. */
export async function run(
  definition: WorkflowDefinition,
  skills: Skills,
  input: Record<string, unknown> = {},
  opts: { resume?: Resume; effects?: Partial<StepEffects> } = {},
) {
  const log = newLog();
  const walker = new WorkflowRun(definition, input, effects(skills, log, opts.effects), opts.resume);
  const result = await walker.run();
  return { result, walker, log };
}

/** An agent that answers its inputs (or `reply` when given), so tests can see what it received. */
export const echo = (inputs: Record<string, unknown>) => ('reply' in inputs ? inputs.reply : { got: inputs });
