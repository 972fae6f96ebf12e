// `pallet lint`: every problem of every file, one line each as FILE:LINE:COL: message.
import { readFile } from 'node:fs/promises';
import { formatProblem, parseDefinition, type LintProblem } from '../dsl/loader';
import type { FieldPath } from '../dsl/validate';
import type { Step, WorkflowDefinition } from '../dsl/types';
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { createAgentDirectory, loadConfig } from '../config';
import { lookupSkill, type AgentEntry } from '../sources/agents';

export async function lintFiles(files: string[], opts: { checkAgents?: boolean } = {}): Promise<boolean> {
  let agents: AgentEntry[] | undefined;
  if (opts.checkAgents) {
    const listed = await createAgentDirectory(loadConfig()).agents();
    for (const problem of [...listed.problems, ...listed.warnings]) console.error(`warning: ${problem}`);
    agents = listed.agents;
  }
  let ok = true;
  for (const file of files) {
    const problems = await lintFile(file, agents);
    for (const p of problems) console.log(formatProblem(p));
    if (problems.length > 0) ok = false;
  }
  if (ok) console.error(`${files.length} file${files.length === 1 ? '' : 's'} OK`);
  return ok;
}

export async function lintFile(file: string, agents?: AgentEntry[]): Promise<LintProblem[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return [{ file, message: `cannot read file: ${(err as Error).message}` }];
  }
  const parsed = parseDefinition(text, file);
  if (!parsed.ok) return parsed.problems;
  return agents ? checkAgainstAgents(parsed.definition, file, agents, parsed.locate) : [];
}

/** Skills no agent offers, and inputs an agent card requires that a step does not give. */
export function checkAgainstAgents(def: WorkflowDefinition, file: string, agents: AgentEntry[], locate: (path: FieldPath) => { line?: number; col?: number } = () => ({})): LintProblem[] {
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
        problems.push({ file, ...locate([...path, 'skill']), message: `step "${step.id}": no agent offers skill "${step.skill}" (known skills: ${known.join(', ') || 'none'})` });
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
