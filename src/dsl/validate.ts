// The checks of a whole definition that its schema cannot express: unique step ids,
// template references (to steps that exist and can have run) and `${{ }}` expressions (their
// syntax, types as far as known, and the steps they read, by the same rules). Every problem
// is collected with the path of the field it concerns, so the loader can point at file, line
// and column.
import { checkExpression, expressionOf, showExpression } from './expressions';
import { inputSchemaProblems } from './input-schema';
import { childLists, kindOf, stepsOf, walkSteps, type FieldPath } from './step-kinds';
import { findExpressions, findTemplates, parseTemplatePath } from './templates';

export type { FieldPath } from './step-kinds';

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
type RawStep = Record<string, unknown>;

export function validateDefinition(def: { steps?: unknown; metadata?: unknown }): Problem[] {
  const walk: Walk = { problems: inputSchemaProblems(def.metadata), seen: new Map(), types: new Map(), all: idsIn(def.steps) };
  if (Array.isArray(def.steps) && def.steps.length === 0) walk.problems.push({ path: ['steps'], message: 'a workflow needs at least one step' });
  checkSteps(stepsOf<RawStep>(def.steps), ['steps'], new Set(), walk);
  return walk.problems;
}

/** The ids of a list of steps and of every step inside them. */
function idsIn(steps: unknown): Set<string> {
  const ids = new Set<string>();
  walkSteps<RawStep>(steps, (step) => void (typeof step.id === 'string' && ids.add(step.id)));
  return ids;
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

  const kind = kindOf(step.step_type);
  const templated = Object.entries(kind?.templated ?? {});
  for (const [field] of templated.filter(([, when]) => when === 'start')) checkTemplates(step[field], [...path, field], id, visible, walk);
  const ran = new Set([id]);
  // Inside a loop: for_each's body sees the steps before the loop and its own earlier steps in the
  // same iteration; an iteration of repeat may read any body step (the ones before it ran in this
  // iteration, the others in the previous one, null in the first), and so may `until`. After the
  // loop only the loop step itself can be read.
  const body = kind?.children.find((slot) => slot.role === 'body');
  const inLoop = new Set([...visible, ...(kind?.loop === 'until' && body ? idsIn(step[body.field]) : []), IN_LOOP]);
  for (const list of childLists(step, path)) {
    // Steps that run once the step finished or failed may read its output (a wait's outcome, the error).
    const seen = list.slot.seesStep ? new Set([...visible, id]) : visible;
    switch (list.slot.role) {
      case 'concurrent':
        // Siblings run at once: each sees only what ran before the parallel step.
        for (const [i, sub] of list.steps) checkStep(sub, [...list.path, i], seen, walk).forEach((ran_) => ran.add(ran_));
        break;
      case 'branch':
      case 'on_error':
        // One branch runs, or the fallback: later steps may read any of its steps (null when it did not run).
        checkSteps(list.steps, list.path, seen, walk).forEach((ran_) => ran.add(ran_));
        break;
      case 'compensate':
        // Compensation runs only once the run has failed: nothing reads it.
        checkSteps(list.steps, list.path, seen, walk);
        break;
      case 'body':
        checkSteps(list.steps, list.path, inLoop, walk);
        break;
    }
  }
  for (const [field] of templated.filter(([, when]) => when === 'after_iteration')) checkTemplates(step[field], [...path, field], id, inLoop, walk);
  return ran;
}

/** Whether two steps sit in different branches of one conditional, switch or wait step. */
function exclusive(a: FieldPath, b: FieldPath, walk: Walk): boolean {
  let d = 0;
  while (d < a.length && d < b.length && a[d] === b[d]) d++;
  if (d === 0 || a[d - 1] !== 'branches' || d >= a.length || d >= b.length) return false;
  const kind = kindOf(walk.types.get(formatPath(a.slice(0, d - 1))));
  // Only one branch of a conditional, switch or wait step runs.
  return kind?.children.some((slot) => slot.field === a[d - 1] && slot.role === 'branch') === true;
}

function checkTemplates(value: unknown, path: FieldPath, stepId: string, visible: Visible, walk: Walk): void {
  for (const { text, path: at } of findTemplates(value, path)) {
    const ref = parseTemplatePath(text);
    if (ref.kind === 'invalid') {
      walk.problems.push({ path: at, message: `step "${stepId}": invalid template "{{ ${text} }}": ${ref.reason}` });
    } else if (ref.kind === 'loop' && !visible.has(IN_LOOP)) {
      walk.problems.push({
        path: at,
        message: `step "${stepId}": template "{{ ${text} }}" reads the current item of a for_each step, and this step is not inside one`,
      });
    } else if (ref.kind === 'step' && !visible.has(ref.stepId)) {
      walk.problems.push({
        path: at,
        message: `step "${stepId}": template "{{ ${text} }}" refers to step "${ref.stepId}", but ${unreachable(ref.stepId, stepId, walk)}`,
      });
    }
  }
  for (const { value: text, path: at } of findExpressions(value, path)) {
    const expression = expressionOf(text);
    if (expression === undefined) {
      walk.problems.push({
        path: at,
        message: `step "${stepId}": an expression must be the whole value, as in "\${{ 'a ' + string(x) }}" (found ${JSON.stringify(text.length > 120 ? `${text.slice(0, 119)}…` : text)})`,
      });
      continue;
    }
    const checked = checkExpression(expression);
    if (!checked.ok) {
      walk.problems.push({ path: at, message: `step "${stepId}": invalid expression "${showExpression(expression)}": ${checked.reason}` });
      continue;
    }
    if (checked.loop && !visible.has(IN_LOOP)) {
      walk.problems.push({
        path: at,
        message: `step "${stepId}": expression "${showExpression(expression)}" reads item or index, which exist only inside a for_each step's steps`,
      });
    }
    for (const ref of checked.refs) {
      if (visible.has(ref.stepId)) continue;
      walk.problems.push({
        path: at,
        message: `step "${stepId}": expression "${showExpression(expression)}" refers to step "${ref.stepId}", but ${unreachable(ref.stepId, stepId, walk)}`,
      });
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
