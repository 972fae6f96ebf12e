// `pallet lint`: every problem of every file, one line each as FILE:LINE:COL: message (or, with
// --json, one JSON array of them).
// With --check-agents, also what only the registry knows: skills no agent offers, inputs a
// card requires, workflows that `execute_workflow` steps name but that do not exist, and
// workflows that run themselves through others. Steps are checked at any depth (branches,
// loop bodies, on_error, compensate, wait outcomes: the walk of dsl/step-kinds.ts).
import { readFile } from 'node:fs/promises';
import { adviseDefinition } from '../dsl/advice';
import { formatProblem, parseDefinition, type LintProblem } from '../dsl/loader';
import { allSteps, isCallStep, literalWorkflowId, type FieldPath } from '../dsl/step-kinds';
import { formatPath } from '../dsl/validate';
import type { WorkflowDefinition } from '../dsl/types';
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { services as processServices, type Services } from '../services';
import { formatReference, workflowReference } from '../registry';
import { lookupSkill, type AgentEntry } from '../sources/agents';
import { DefinitionNotFoundError, type FetchedDefinition } from '../sources/definitions';

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
  /** The definition of a workflow id, to follow the workflows it runs; undefined when it cannot be had (or is invalid). */
  definition?(id: string): Promise<WorkflowDefinition | undefined>;
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
  return {
    file: p.file,
    line: p.line ?? null,
    column: p.line ? (p.col ?? 1) : null,
    field: p.field ?? null,
    message: p.message,
    severity: p.warning ? 'warning' : 'error',
  };
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
  const advice = adviseDefinition(parsed.definition).map((a): LintProblem => ({
    file,
    ...parsed.locate(a.path),
    field: formatPath(a.path),
    message: a.message,
    warning: true,
  }));
  const problems = [...advice, ...(await checkSelfRuns(parsed.definition, file, context?.workflows, parsed.locate))];
  if (!context) return problems;
  problems.push(...checkAgainstAgents(parsed.definition, file, context.agents, parsed.locate, context.discoveryProblems));
  if (context.workflows) problems.push(...(await checkWorkflowIds(parsed.definition, file, context.workflows, parsed.locate)));
  return problems;
}

/** Skills no agent offers, and inputs an agent card requires that a step does not give. */
export function checkAgainstAgents(
  def: WorkflowDefinition,
  file: string,
  agents: AgentEntry[],
  locate: Locate = () => ({}),
  discoveryProblems = false,
): LintProblem[] {
  const problems: LintProblem[] = [];
  const known = [...new Set(agents.flatMap((a) => a.card.skills.map((s) => s.id)))].sort();
  for (const { step, path } of allSteps(def.steps)) {
    if (!isCallStep(step) || !step.skill || step.skill === EXECUTE_WORKFLOW_SKILL) continue;
    // The agent the worker would call: the first in the directory's order.
    const agent = lookupSkill(agents, step.skill);
    if (!agent) {
      // With discovery incomplete, the skill may be an unreadable agent's: say so, not that it is unknown.
      const message = discoveryProblems
        ? `step "${step.id}": skill "${step.skill}" is not offered by any agent that could be read (known skills: ${known.join(', ') || 'none'}); agent discovery failed in part, see the warnings`
        : `step "${step.id}": no agent offers skill "${step.skill}" (known skills: ${known.join(', ') || 'none'})`;
      problems.push({ file, ...locate([...path, 'skill']), message });
      continue;
    }
    const schema = agent.skill.input_schema as { required?: unknown } | undefined;
    const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
    for (const name of required.filter((r) => !(r in step.inputs))) {
      problems.push({
        file,
        ...locate([...path, 'inputs']),
        message: `step "${step.id}": skill "${step.skill}" of agent ${agent.card.name} requires input "${name}"`,
      });
    }
  }
  return problems;
}

/** The execute_workflow steps of a definition that name their workflow by a literal id, at any depth. */
function workflowCalls(def: WorkflowDefinition): { id: string; stepId: string; path: FieldPath }[] {
  return allSteps(def.steps).flatMap(({ step, path }) => {
    const id = literalWorkflowId(step);
    return id === undefined ? [] : [{ id, stepId: step.id, path }];
  });
}

/**
 * `execute_workflow` steps whose `inputs.workflow_id` is a literal naming a workflow that the
 * registry (or PALLET_WORKFLOWS_DIR) does not have. Ids given by templates are not checked.
 * A lookup that cannot tell (registry down) is a warning, not a problem.
 */
export async function checkWorkflowIds(def: WorkflowDefinition, file: string, workflows: WorkflowLookup, locate: Locate = () => ({})): Promise<LintProblem[]> {
  const problems: LintProblem[] = [];
  for (const { id, stepId, path } of workflowCalls(def)) {
    let missing: string | undefined;
    try {
      missing = await workflows.missing(id);
    } catch (err) {
      console.error(`warning: cannot check workflow "${id}" of step "${stepId}" in ${workflows.describe()}: ${(err as Error).message}`);
      continue;
    }
    if (missing === undefined) continue;
    problems.push({
      file,
      ...locate([...path, 'inputs', 'workflow_id']),
      message: `step "${stepId}": ${EXECUTE_WORKFLOW_SKILL} names workflow "${id}", which the ${workflows.describe()} does not have${missing ? ` (${missing})` : ''}`,
    });
  }
  return problems;
}

/**
 * `execute_workflow` steps that would nest runs without end: a workflow that runs itself
 * (its own metadata.id as a literal workflow_id) or, with a lookup that gives definitions,
 * that reaches a workflow running itself through others. The message gives the chain
 * (`a -> b -> a`). Ids given by templates, and workflows that cannot be had, are not followed.
 */
export async function checkSelfRuns(def: WorkflowDefinition, file: string, workflows?: WorkflowLookup, locate: Locate = () => ({})): Promise<LintProblem[]> {
  const root = def.metadata.id;
  /** Workflows from which no cycle can be reached (each explored once). */
  const acyclic = new Set<string>();
  /** The first chain from `chain` (ending at the workflow that runs `id`) that comes back to a workflow on it. */
  const cycleThrough = async (id: string, chain: string[]): Promise<string[] | undefined> => {
    if (chain.includes(id)) return [...chain, id];
    if (acyclic.has(id)) return undefined;
    const called = workflows?.definition ? await workflows.definition(id).catch(() => undefined) : undefined;
    // Follow the definition by its own id (the id written may be another name for it).
    const key = called?.metadata.id ?? id;
    if (key !== id && chain.includes(key)) return [...chain, key];
    if (!called) return undefined;
    for (const next of workflowCalls(called)) {
      const found = await cycleThrough(next.id, [...chain, key]);
      if (found) return found;
    }
    acyclic.add(key);
    acyclic.add(id);
    return undefined;
  };
  const problems: LintProblem[] = [];
  for (const { id, stepId, path } of workflowCalls(def)) {
    const chain = await cycleThrough(id, [root]);
    if (!chain) continue;
    const what = chain[chain.length - 1] === root ? `workflow "${root}" runs itself` : `workflow "${id}" leads to a workflow that runs itself`;
    const message = `step "${stepId}": ${what} through ${EXECUTE_WORKFLOW_SKILL}, without end: ${chain.join(' -> ')}`;
    problems.push({ file, ...locate([...path, 'inputs', 'workflow_id']), message });
  }
  return problems;
}

/** Looks ids up where runs do: PALLET_WORKFLOWS_DIR when set, else the registry; each id fetched once. */
export function workflowLookup(services: Services): WorkflowLookup {
  const { settings } = services;
  const store = services.definitions;
  const fetched = new Map<string, Promise<FetchedDefinition | DefinitionNotFoundError>>();
  const fetch = (id: string) => {
    if (!fetched.has(id))
      fetched.set(
        id,
        store.fetch(id).catch((err: unknown) => (err instanceof DefinitionNotFoundError ? err : Promise.reject(err))),
      );
    return fetched.get(id)!;
  };
  return {
    describe: () => store.describe(),
    missing: async (id) => {
      if (!((await fetch(id)) instanceof DefinitionNotFoundError)) return undefined;
      return settings.workflowsDir ? '' : formatReference(workflowReference(id, settings.registry.registry), false);
    },
    definition: async (id) => {
      const found = await fetch(id);
      if (found instanceof DefinitionNotFoundError) return undefined;
      const parsed = parseDefinition(found.text, found.file);
      return parsed.ok ? parsed.definition : undefined;
    },
  };
}
