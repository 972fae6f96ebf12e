// `pallet lint`: every problem of every file, one line each as FILE:LINE:COL: message (or, with
// --json, one JSON array of them).
// With --check-agents, also what only the registry knows: skills no agent offers, inputs a
// card requires, and workflows that `execute_workflow` steps name but that do not exist.
import { readFile } from 'node:fs/promises';
import { adviseDefinition } from '../dsl/advice';
import { formatProblem, parseDefinition, type LintProblem } from '../dsl/loader';
import { formatPath, type FieldPath } from '../dsl/validate';
import type { Step, WorkflowDefinition } from '../dsl/types';
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { services as processServices, type Services } from '../services';
import { formatReference, workflowReference } from '../registry';
import { lookupSkill, type AgentEntry } from '../sources/agents';
import { DefinitionNotFoundError } from '../sources/definitions';

type Locate = (path: FieldPath) => { line?: number; col?: number };

/** What --check-agents checks a definition against. */
export interface LintContext {
  agents: AgentEntry[];
  /** Agent discovery was incomplete (an agent or the registry could not be read). */
  discoveryProblems?: boolean;
  workflows?: WorkflowLookup;
}

/** Whether a workflow id exists where runs look it up (the registry, or PALLET_WORKFLOWS_DIR). */
export interface WorkflowLookup {
  /** `registry localhost:5000` or `folder /path`. */
  describe(): string;
  /** undefined when it exists, else where it was looked for (e.g. `workflows/x:v1`, may be ''); throws when it cannot tell. */
  missing(id: string): Promise<string | undefined>;
}

/** A problem as `lint --json` prints it (snake_case, positions null where unknown). */
export interface LintProblemJson {
  file: string;
  line: number | null;
  column: number | null;
  /** Dotted path of the field concerned, e.g. `steps[1].inputs`. */
  field: string | null;
  message: string;
  severity: 'error' | 'warning';
}

export function problemJson(p: LintProblem): LintProblemJson {
  return { file: p.file, line: p.line ?? null, column: p.line ? (p.col ?? 1) : null, field: p.field ?? null, message: p.message, severity: p.warning ? 'warning' : 'error' };
}

/**
 * Lints the files, printing each problem (errors on stdout, warnings on stderr; with `json`
 * all of them as one JSON array on stdout). True when no file has an error.
 */
export async function lintFiles(files: string[], opts: { checkAgents?: boolean; json?: boolean } = {}): Promise<boolean> {
  let context: LintContext | undefined;
  if (opts.checkAgents) {
    const services = processServices();
    // Agents that share a skill are reported by the directory itself, as in the worker's log.
    const listed = await services.agents.agents();
    // Refused cards were told by the directory already, with the shared skills.
    for (const problem of listed.problems.filter((p) => !listed.refused.some((r) => r.problem === p))) console.error(`warning: ${problem}`);
    context = { agents: listed.agents, discoveryProblems: listed.problems.length > 0, workflows: workflowLookup(services) };
  }
  let ok = true;
  const all: LintProblem[] = [];
  for (const file of files) {
    const problems = await lintFile(file, context);
    if (!opts.json) for (const p of problems) (p.warning ? console.error : console.log)(formatProblem(p));
    all.push(...problems);
    if (problems.some((p) => !p.warning)) ok = false;
  }
  if (opts.json) console.log(JSON.stringify(all.map(problemJson), null, 2));
  if (ok) console.error(`${files.length} file${files.length === 1 ? '' : 's'} OK`);
  return ok;
}

export async function lintFile(file: string, context?: LintContext): Promise<LintProblem[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return [{ file, message: `cannot read file: ${(err as Error).message}` }];
  }
  const parsed = parseDefinition(text, file);
  if (!parsed.ok) return parsed.problems;
  const advice = adviseDefinition(parsed.definition).map((a): LintProblem => ({ file, ...parsed.locate(a.path), field: formatPath(a.path), message: a.message, warning: true }));
  if (!context) return advice;
  const problems = [...advice, ...checkAgainstAgents(parsed.definition, file, context.agents, parsed.locate, context.discoveryProblems)];
  if (context.workflows) problems.push(...(await checkWorkflowIds(parsed.definition, file, context.workflows, parsed.locate)));
  return problems;
}

/** Skills no agent offers, and inputs an agent card requires that a step does not give. */
export function checkAgainstAgents(def: WorkflowDefinition, file: string, agents: AgentEntry[], locate: Locate = () => ({}), discoveryProblems = false): LintProblem[] {
  const problems: LintProblem[] = [];
  const known = [...new Set(agents.flatMap((a) => a.card.skills.map((s) => s.id)))].sort();
  const visit = (steps: Step[], at: FieldPath) => {
    steps.forEach((step, i) => {
      const path = [...at, i];
      for (const [name, branch] of Object.entries(step.branches ?? {})) visit(branch, [...path, 'branches', name]);
      if (step.step_type !== 'sequential' || !step.skill || step.skill === EXECUTE_WORKFLOW_SKILL) return;
      // The agent the worker would call: the first in the directory's order.
      const agent = lookupSkill(agents, step.skill);
      if (!agent) {
        // With discovery incomplete, the skill may be an unreadable agent's: say so, not that it is unknown.
        const message = discoveryProblems
          ? `step "${step.id}": skill "${step.skill}" is not offered by any agent that could be read (known skills: ${known.join(', ') || 'none'}); agent discovery failed in part, see the warnings`
          : `step "${step.id}": no agent offers skill "${step.skill}" (known skills: ${known.join(', ') || 'none'})`;
        problems.push({ file, ...locate([...path, 'skill']), message });
        return;
      }
      const schema = agent.skill.input_schema as { required?: unknown } | undefined;
      const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
      for (const name of required.filter((r) => !(r in step.inputs))) {
        problems.push({ file, ...locate([...path, 'inputs']), message: `step "${step.id}": skill "${step.skill}" of agent ${agent.card.name} requires input "${name}"` });
      }
    });
  };
  visit(def.steps, ['steps']);
  return problems;
}

/** Every step, with its field path, in containers and branches at any depth. */
function allSteps(steps: Step[], at: FieldPath = ['steps']): { step: Step; path: FieldPath }[] {
  return steps.flatMap((step, i) => {
    const path = [...at, i];
    const nested = Object.entries(step.branches ?? {}).flatMap(([name, branch]) => (Array.isArray(branch) ? allSteps(branch, [...path, 'branches', name]) : []));
    return [{ step, path }, ...nested];
  });
}

/**
 * `execute_workflow` steps whose `inputs.workflow_id` is a literal naming a workflow that the
 * registry (or PALLET_WORKFLOWS_DIR) does not have. Ids given by templates are not checked.
 * A lookup that cannot tell (registry down) is a warning, not a problem.
 */
export async function checkWorkflowIds(def: WorkflowDefinition, file: string, workflows: WorkflowLookup, locate: Locate = () => ({})): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  for (const { step, path } of allSteps(def.steps)) {
    if (step.step_type !== 'sequential' || step.skill !== EXECUTE_WORKFLOW_SKILL) continue;
    const id = step.inputs.workflow_id;
    if (typeof id !== 'string' || id.includes('{{') || !id.trim()) continue;
    let missing: string | undefined;
    try {
      missing = await workflows.missing(id);
    } catch (err) {
      console.error(`warning: cannot check workflow "${id}" of step "${step.id}" in ${workflows.describe()}: ${(err as Error).message}`);
      continue;
    }
    if (missing === undefined) continue;
    problems.push({
      file,
      ...locate([...path, 'inputs', 'workflow_id']),
      message: `step "${step.id}": ${EXECUTE_WORKFLOW_SKILL} names workflow "${id}", which the ${workflows.describe()} does not have${missing ? ` (${missing})` : ''}`,
    });
  }
  return problems;
}

/** Looks ids up where runs do: PALLET_WORKFLOWS_DIR when set, else the registry; each id once. */
export function workflowLookup(services: Services): WorkflowLookup {
  const { settings } = services;
  const store = services.definitions;
  const seen = new Map<string, Promise<string | undefined>>();
  const lookup = async (id: string): Promise<string | undefined> => {
    const where = settings.workflowsDir ? '' : formatReference(workflowReference(id, settings.registry.registry), false);
    try {
      await store.fetch(id);
      return undefined;
    } catch (err) {
      if (err instanceof DefinitionNotFoundError) return where;
      throw err;
    }
  };
  return {
    describe: () => store.describe(),
    missing: (id) => {
      if (!seen.has(id)) seen.set(id, lookup(id));
      return seen.get(id)!;
    },
  };
}
