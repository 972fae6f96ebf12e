// Static checks of a whole definition, run before anything executes. Every problem is
// collected (not just the first) with the path of the field it concerns, so the loader can
// point at the file, line and column.
import { findTemplates, parseTemplatePath } from './templates';
import { STEP_TYPES, type Step, type WorkflowDefinition } from './types';

export type FieldPath = (string | number)[];

export interface Problem {
  path: FieldPath;
  message: string;
}

/** Branch names each container step type accepts (`undefined`: any name). */
const BRANCH_NAMES: Record<string, readonly string[] | undefined> = {
  parallel: ['steps'],
  conditional: ['if_true', 'if_false'],
  switch: undefined,
};

/** Step ids visible to templates at a point of the walk: ids that have certainly or possibly run. */
type Visible = ReadonlySet<string>;

interface Walk {
  problems: Problem[];
  /** Where each step id is first defined, to report duplicates. */
  seen: Map<string, FieldPath>;
  /** Every step id in the definition, to tell "unknown" from "not yet run". */
  all: Set<string>;
}

export function validateDefinition(def: WorkflowDefinition): Problem[] {
  const walk: Walk = { problems: [], seen: new Map(), all: new Set() };
  collectIds(def.steps, walk.all);
  if (def.steps.length === 0) walk.problems.push({ path: ['steps'], message: 'a workflow needs at least one step' });
  checkSteps(def.steps, ['steps'], new Set(), walk);
  return walk.problems;
}

function collectIds(steps: Step[], into: Set<string>): void {
  for (const step of steps) {
    into.add(step.id);
    for (const branch of Object.values(step.branches ?? {})) collectIds(branch, into);
  }
}

/** Checks a list of steps run one after another; returns the ids visible after it. */
function checkSteps(steps: Step[], path: FieldPath, visible: Visible, walk: Walk): Set<string> {
  const after = new Set(visible);
  steps.forEach((step, i) => {
    for (const id of checkStep(step, [...path, i], after, walk)) after.add(id);
  });
  return after;
}

/** Checks one step; returns the ids that may have run once it is done. */
function checkStep(step: Step, path: FieldPath, visible: Visible, walk: Walk): Set<string> {
  const { problems } = walk;
  const first = walk.seen.get(step.id);
  if (first) problems.push({ path: [...path, 'id'], message: `duplicate step id "${step.id}" (first defined at ${formatPath(first)})` });
  else walk.seen.set(step.id, path);

  checkTemplates(step.inputs, [...path, 'inputs'], step.id, visible, walk);
  const type = step.step_type;
  if (!(STEP_TYPES as readonly string[]).includes(type)) {
    problems.push({ path: [...path, 'step_type'], message: `unknown step_type "${type}" in step "${step.id}" (expected one of: ${STEP_TYPES.join(', ')})` });
    return new Set([step.id]);
  }
  if (type === 'sequential') {
    if (!step.skill) problems.push({ path: [...path, 'skill'], message: `step "${step.id}" needs a skill` });
    if (step.branches) problems.push({ path: [...path, 'branches'], message: `sequential step "${step.id}" cannot have branches` });
    return new Set([step.id]);
  }
  return checkContainer(step, type, path, visible, walk);
}

function checkContainer(step: Step, type: string, path: FieldPath, visible: Visible, walk: Walk): Set<string> {
  const { problems } = walk;
  const ran = new Set([step.id]);
  if (type === 'conditional' || type === 'switch') {
    if (step.condition === undefined) problems.push({ path: [...path, 'condition'], message: `${type} step "${step.id}" needs a condition` });
    else checkTemplates(step.condition, [...path, 'condition'], step.id, visible, walk);
  }
  const branches = step.branches;
  if (!branches || Object.keys(branches).length === 0) {
    const what = type === 'parallel' ? 'branches.steps (the steps to run in parallel)' : 'branches';
    problems.push({ path: [...path, 'branches'], message: `${type} step "${step.id}" needs ${what}` });
    return ran;
  }
  const allowed = BRANCH_NAMES[type];
  for (const name of Object.keys(branches)) {
    if (allowed && !allowed.includes(name)) {
      problems.push({ path: [...path, 'branches', name], message: `${type} step "${step.id}" has unknown branch "${name}" (expected: ${allowed.join(', ')})` });
    }
  }
  if (type === 'parallel' && !branches.steps) {
    problems.push({ path: [...path, 'branches'], message: `parallel step "${step.id}" needs branches.steps (the steps to run in parallel)` });
  }
  for (const [name, steps] of Object.entries(branches)) {
    const branchPath = [...path, 'branches', name];
    if (type === 'parallel') {
      // Siblings run at once: each sees only what ran before the parallel step.
      steps.forEach((sub, i) => checkStep(sub, [...branchPath, i], visible, walk).forEach((id) => ran.add(id)));
    } else {
      // One branch runs; later steps may read any of its steps (null when it did not run).
      checkSteps(steps, branchPath, visible, walk).forEach((id) => ran.add(id));
    }
  }
  return ran;
}

function checkTemplates(value: unknown, path: FieldPath, stepId: string, visible: Visible, walk: Walk): void {
  for (const { text, path: at } of findTemplates(value, path)) {
    const ref = parseTemplatePath(text);
    if (ref.kind === 'invalid') {
      walk.problems.push({ path: at, message: `step "${stepId}": invalid template "{{ ${text} }}": ${ref.reason}` });
    } else if (ref.kind === 'step' && !visible.has(ref.stepId)) {
      const why = !walk.all.has(ref.stepId)
        ? 'there is no such step'
        : ref.stepId === stepId
          ? 'a step cannot read its own output'
          : 'that step cannot have run before this one (it comes later, or is a parallel sibling or in another branch)';
      walk.problems.push({ path: at, message: `step "${stepId}": template "{{ ${text} }}" refers to step "${ref.stepId}", but ${why}` });
    }
  }
}

export function formatPath(path: FieldPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
