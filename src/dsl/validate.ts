// The checks of a whole definition that its schema cannot express: unique step ids,
// template references (to steps that exist and can have run) and `${{ }}` expressions (their
// syntax, types as far as known, and the steps they read, by the same rules). Every problem
// is collected with the path of the field it concerns, so the loader can point at file, line
// and column.
import { checkExpression, expressionOf, showExpression } from './expressions';
import { findExpressions, findTemplates, isPlainObject, parseTemplatePath } from './templates';

export type FieldPath = (string | number)[];

export interface Problem {
  path: FieldPath;
  message: string;
}

/** Step ids visible to templates at a point of the walk: ids that have certainly or possibly run. */
type Visible = ReadonlySet<string>;

interface Walk {
  problems: Problem[];
  /** Where each step id is defined, to report duplicates. */
  seen: Map<string, FieldPath[]>;
  /** step_type of each step by its path, to tell branches that exclude each other. */
  types: Map<string, unknown>;
  /** Every step id in the definition, to tell "unknown" from "not yet run". */
  all: Set<string>;
}

/**
 * A step as these checks read it. They also run on a file that failed its schema (so that
 * every problem is reported at once), so nothing about its shape is taken for granted.
 */
interface RawStep {
  id?: unknown;
  step_type?: unknown;
  inputs?: unknown;
  condition?: unknown;
  branches?: unknown;
  on_error?: unknown;
  compensate?: unknown;
  /** for_each steps: the items (a list or a template giving one) and the body; repeat steps: the body and its condition. */
  items?: unknown;
  steps?: unknown;
  /** sleep and wait steps: durations and times, which may be templates. */
  duration?: unknown;
  until?: unknown;
  timeout?: unknown;
}

export function validateDefinition(def: { steps?: unknown }): Problem[] {
  const steps = stepList(def.steps);
  const walk: Walk = { problems: [], seen: new Map(), types: new Map(), all: new Set() };
  collectIds(steps, walk.all);
  if (Array.isArray(def.steps) && def.steps.length === 0) walk.problems.push({ path: ['steps'], message: 'a workflow needs at least one step' });
  checkSteps(steps, ['steps'], new Set(), walk);
  return walk.problems;
}

/** The maps of a list (anything else is the schema's to report). */
function stepList(value: unknown): [number, RawStep][] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v, i): [number, RawStep][] => (isPlainObject(v) ? [[i, v as RawStep]] : []));
}

function branchesOf(step: RawStep): [string, [number, RawStep][]][] {
  const branches = step.branches;
  if (!isPlainObject(branches)) return [];
  return Object.entries(branches).map(([name, list]) => [name, stepList(list)]);
}

function collectIds(steps: [number, RawStep][], into: Set<string>): void {
  for (const [, step] of steps) {
    if (typeof step.id === 'string') into.add(step.id);
    for (const [, branch] of branchesOf(step)) collectIds(branch, into);
    collectIds(stepList(step.on_error), into);
    collectIds(stepList(step.compensate), into);
    if (step.step_type === 'for_each' || step.step_type === 'repeat') collectIds(stepList(step.steps), into);
  }
}

/** In the visible set: the steps being checked are inside a for_each body (`item` and `index` exist). Not a possible step id. */
const IN_LOOP = '\u0000for_each';

/** Checks a list of steps run one after another; returns the ids visible after it. */
function checkSteps(steps: [number, RawStep][], path: FieldPath, visible: Visible, walk: Walk): Set<string> {
  const after = new Set(visible);
  for (const [i, step] of steps) {
    for (const id of checkStep(step, [...path, i], after, walk)) after.add(id);
  }
  return after;
}

/** Checks one step; returns the ids that may have run once it is done. */
function checkStep(step: RawStep, path: FieldPath, visible: Visible, walk: Walk): Set<string> {
  const id = typeof step.id === 'string' ? step.id : '';
  walk.types.set(formatPath(path), step.step_type);
  const earlier = walk.seen.get(id) ?? [];
  // One id in two branches of one conditional or switch is fine (Pallet runs it): only one runs.
  const clash = earlier.find((other) => !exclusive(other, path, walk));
  if (clash) walk.problems.push({ path: [...path, 'id'], message: `duplicate step id "${id}" (first defined at ${formatPath(clash)})` });
  if (id) walk.seen.set(id, [...earlier, path]);

  checkTemplates(step.inputs, [...path, 'inputs'], id, visible, walk);
  checkTemplates(step.condition, [...path, 'condition'], id, visible, walk);
  if (step.step_type === 'sleep' || step.step_type === 'wait') {
    for (const field of ['duration', 'until', 'timeout'] as const) checkTemplates(step[field], [...path, field], id, visible, walk);
  }
  const ran = new Set([id]);
  // A wait step's branches run after it finished: they may read its output.
  const inBranches = step.step_type === 'wait' && id ? new Set([...visible, id]) : visible;
  for (const [name, steps] of branchesOf(step)) {
    const branchPath = [...path, 'branches', name];
    if (step.step_type === 'parallel') {
      // Siblings run at once: each sees only what ran before the parallel step.
      for (const [i, sub] of steps) checkStep(sub, [...branchPath, i], visible, walk).forEach((ran_) => ran.add(ran_));
    } else {
      // One branch runs; later steps may read any of its steps (null when it did not run).
      checkSteps(steps, branchPath, inBranches, walk).forEach((id) => ran.add(id));
    }
  }
  if (step.step_type === 'for_each') {
    checkTemplates(step.items, [...path, 'items'], id, visible, walk);
    // The body sees the steps before the loop and its own earlier steps in the same iteration;
    // after the loop only the for_each step itself (its list) can be read.
    checkSteps(stepList(step.steps), [...path, 'steps'], new Set([...visible, IN_LOOP]), walk);
  }
  if (step.step_type === 'repeat') {
    // An iteration may read any body step: the ones before it ran in this iteration, the
    // others in the previous one (null in the first). So may `until`, checked after it.
    const body = stepList(step.steps);
    const ids = new Set<string>();
    collectIds(body, ids);
    const inside = new Set([...visible, ...ids, IN_LOOP]);
    checkSteps(body, [...path, 'steps'], inside, walk);
    checkTemplates(step.until, [...path, 'until'], id, inside, walk);
  }
  // on_error steps run when this step failed: they may read its error (its output), and later
  // steps may read theirs. compensate steps run only once the run has failed: nothing reads them.
  const withSelf = new Set([...visible, id]);
  checkSteps(stepList(step.on_error), [...path, 'on_error'], withSelf, walk).forEach((ran_) => ran.add(ran_));
  checkSteps(stepList(step.compensate), [...path, 'compensate'], withSelf, walk);
  return ran;
}

/** Whether two steps sit in different branches of one conditional, switch or wait step. */
function exclusive(a: FieldPath, b: FieldPath, walk: Walk): boolean {
  let d = 0;
  while (d < a.length && d < b.length && a[d] === b[d]) d++;
  if (d === 0 || a[d - 1] !== 'branches' || d >= a.length || d >= b.length) return false;
  const type = walk.types.get(formatPath(a.slice(0, d - 1)));
  // A wait step runs the branch of one outcome.
  return type === 'conditional' || type === 'switch' || type === 'wait';
}

function checkTemplates(value: unknown, path: FieldPath, stepId: string, visible: Visible, walk: Walk): void {
  for (const { text, path: at } of findTemplates(value, path)) {
    const ref = parseTemplatePath(text);
    if (ref.kind === 'invalid') {
      walk.problems.push({ path: at, message: `step "${stepId}": invalid template "{{ ${text} }}": ${ref.reason}` });
    } else if (ref.kind === 'loop' && !visible.has(IN_LOOP)) {
      walk.problems.push({ path: at, message: `step "${stepId}": template "{{ ${text} }}" reads the current item of a for_each step, and this step is not inside one` });
    } else if (ref.kind === 'step' && !visible.has(ref.stepId)) {
      walk.problems.push({ path: at, message: `step "${stepId}": template "{{ ${text} }}" refers to step "${ref.stepId}", but ${unreachable(ref.stepId, stepId, walk)}` });
    }
  }
  for (const { value: text, path: at } of findExpressions(value, path)) {
    const expression = expressionOf(text);
    if (expression === undefined) {
      walk.problems.push({ path: at, message: `step "${stepId}": an expression must be the whole value, as in "\${{ 'a ' + string(x) }}" (found ${JSON.stringify(text.length > 120 ? `${text.slice(0, 119)}…` : text)})` });
      continue;
    }
    const checked = checkExpression(expression);
    if (!checked.ok) {
      walk.problems.push({ path: at, message: `step "${stepId}": invalid expression "${showExpression(expression)}": ${checked.reason}` });
      continue;
    }
    if (checked.loop && !visible.has(IN_LOOP)) {
      walk.problems.push({ path: at, message: `step "${stepId}": expression "${showExpression(expression)}" reads item or index, which exist only inside a for_each step's steps` });
    }
    for (const ref of checked.refs) {
      if (visible.has(ref.stepId)) continue;
      walk.problems.push({ path: at, message: `step "${stepId}": expression "${showExpression(expression)}" refers to step "${ref.stepId}", but ${unreachable(ref.stepId, stepId, walk)}` });
    }
  }
}

/** Why a step id cannot be read where it is. */
function unreachable(refId: string, stepId: string, walk: Walk): string {
  return !walk.all.has(refId)
    ? 'there is no such step'
    : refId === stepId
      ? 'a step cannot read its own output'
      : 'that step cannot have run before this one (it comes later, or is a parallel sibling or in another branch)';
}

export function formatPath(path: FieldPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
