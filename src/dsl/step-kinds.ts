// The step kinds: one entry per step type saying what every consumer of a definition needs to
// know about it (where its child step lists are, which fields hold templates, whether it calls
// an agent), and the one walk of the step tree built on it. The checks (validate.ts), lint
// advice, charts, `pallet lint --check-agents` and `pallet retry` all walk with it, so a step
// nested anywhere (a loop body, a fallback, a wait outcome) is seen by each of them.
//
// Sandbox-safe and free of zod (the workflow may import it). The walk also reads raw,
// unvalidated definitions (validate.ts runs on files that failed their schema): nothing about
// their shape is taken for granted.
import { EXECUTE_WORKFLOW_SKILL } from '../contract';
import { isPlainObject } from './plain-object';
import { WAIT_OUTCOMES, type StepType } from './step-types';
import type { SequentialStep, Step, WorkflowDefinition } from './types';

/** Where a value is in a definition: `['steps', 0, 'branches', 'if_true', 1]`. */
export type FieldPath = (string | number)[];

/**
 * How the steps of a child list run:
 * - `concurrent`: all at once, each seeing only what ran before the container (parallel);
 * - `branch`: one after another, and only one branch of the container runs (conditional, switch, wait);
 * - `body`: one after another, once per iteration (for_each, repeat);
 * - `on_error`: one after another when the step failed, standing in for it;
 * - `compensate`: one after another when the run fails later, undoing the step.
 */
export type ChildRole = 'concurrent' | 'branch' | 'body' | 'on_error' | 'compensate';

/** A field of a step holding steps: a list, or (`names`) a map of named lists. */
export interface ChildSlot {
  field: 'branches' | 'steps' | 'on_error' | 'compensate';
  /** A map of lists: its names in the order they are drawn, or `any` (a switch's values). */
  names?: readonly string[] | 'any';
  role: ChildRole;
  /** The steps of this slot may read the step's own output (a wait's outcome, a failed step's error). */
  seesStep?: true;
}

/** When a templated field is resolved. */
export type TemplateTime = 'start' | 'after_iteration';

export interface StepKind {
  /** Where its child steps are, in the order they are walked. */
  children: readonly ChildSlot[];
  /** Fields holding templates or expressions, and when they are resolved (`until`: after each iteration, seeing the body). */
  templated: Readonly<Record<string, TemplateTime>>;
  /** It calls an agent (or runs a workflow with execute_workflow): a sequential step. */
  callsAgent: boolean;
  /** Steps directly in its branches keep Pallet's bare results (their `outputs` is ignored). */
  bareResults: boolean;
  /** It contains other steps and is drawn as a box around them; its summary is in the `state` query. */
  container: boolean;
  /** A loop: `items` (once per item, seeing item and index) or `until` (again until a condition holds). */
  loop?: 'items' | 'until';
}

const body: ChildSlot = { field: 'steps', role: 'body' };

/** The step kinds, by step type: a new step type does not compile until it has one. */
export const STEP_KINDS: { readonly [T in StepType]: StepKind } = {
  sequential: {
    children: [
      { field: 'on_error', role: 'on_error', seesStep: true },
      { field: 'compensate', role: 'compensate', seesStep: true },
    ],
    templated: { inputs: 'start' },
    callsAgent: true,
    bareResults: false,
    container: false,
  },
  parallel: {
    children: [{ field: 'branches', names: ['steps'], role: 'concurrent' }],
    templated: { inputs: 'start' },
    callsAgent: false,
    bareResults: false,
    container: true,
  },
  conditional: {
    children: [{ field: 'branches', names: ['if_true', 'if_false'], role: 'branch' }],
    templated: { inputs: 'start', condition: 'start' },
    callsAgent: false,
    bareResults: true,
    container: true,
  },
  switch: {
    children: [{ field: 'branches', names: 'any', role: 'branch' }],
    templated: { inputs: 'start', condition: 'start' },
    callsAgent: false,
    bareResults: true,
    container: true,
  },
  sleep: { children: [], templated: { duration: 'start', until: 'start' }, callsAgent: false, bareResults: false, container: false },
  wait: {
    // Its branches run after it finished: they may read its outcome.
    children: [{ field: 'branches', names: WAIT_OUTCOMES, role: 'branch', seesStep: true }],
    templated: { timeout: 'start' },
    callsAgent: false,
    bareResults: false,
    container: true,
  },
  for_each: { children: [body], templated: { inputs: 'start', items: 'start' }, callsAgent: false, bareResults: false, container: true, loop: 'items' },
  repeat: { children: [body], templated: { inputs: 'start', until: 'after_iteration' }, callsAgent: false, bareResults: false, container: true, loop: 'until' },
};

/** The kind of a step_type as written: a missing one is sequential (Pallet's default); an unknown one has none. */
export function kindOf(stepType: unknown): StepKind | undefined {
  if (stepType === undefined) return STEP_KINDS.sequential;
  return typeof stepType === 'string' && Object.prototype.hasOwnProperty.call(STEP_KINDS, stepType) ? STEP_KINDS[stepType as StepType] : undefined;
}

/** One list of child steps of a step, as found in the definition. */
export interface ChildList<S> {
  slot: ChildSlot;
  /** The list's name in a map of lists (`if_true`, a switch value, `steps` of a parallel step). */
  name?: string;
  path: FieldPath;
  /** The maps of the list with their index (anything else is the schema's to report). */
  steps: [number, S][];
}

/** The maps of a list with their index; nothing for anything but a list. */
export function stepsOf<S = Record<string, unknown>>(value: unknown): [number, S][] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v, i): [number, S][] => (isPlainObject(v) ? [[i, v as S]] : []));
}

/**
 * The child lists of a step (typed or raw) at `path`, by its kind: for a map of lists, each of
 * its entries in the order written (names the kind does not know included: the schema reports them).
 */
export function childLists<S extends object = Step>(step: S, path: FieldPath): ChildList<S>[] {
  const raw = step as Record<string, unknown>;
  const kind = kindOf(raw.step_type);
  if (!kind) return [];
  return kind.children.flatMap((slot): ChildList<S>[] => {
    const value = raw[slot.field];
    if (!slot.names) return value === undefined ? [] : [{ slot, path: [...path, slot.field], steps: stepsOf<S>(value) }];
    if (!isPlainObject(value)) return [];
    return Object.entries(value).map(([name, list]) => ({ slot, name, path: [...path, slot.field, name], steps: stepsOf<S>(list) }));
  });
}

/** The slot of a step type's kind with that role (undefined when it has none). */
export function slotOf(stepType: StepType, role: ChildRole): ChildSlot | undefined {
  return STEP_KINDS[stepType].children.find((slot) => slot.role === role);
}

/** The steps of a typed step's slot (of the list `name` in a map of lists): [] when absent. */
export function stepsIn(step: Step, slot: ChildSlot | undefined, name?: string): Step[] {
  const value = slot && (step as unknown as Record<string, unknown>)[slot.field];
  const list = name === undefined ? value : isPlainObject(value) ? value[name] : undefined;
  return Array.isArray(list) ? (list as Step[]) : [];
}

/** A step met by the walk: where it is, the container or step whose list holds it, and that list's role. */
export interface StepVisit<S> {
  step: S;
  path: FieldPath;
  /** The step whose child list holds this one (undefined at the top level). */
  parent?: StepVisit<S>;
  /** The role of the list it is in (undefined at the top level). */
  role?: ChildRole;
  /** The name of its list in a map of lists. */
  branch?: string;
}

/**
 * Visits every step of a list and, depth first in the order written, every step inside them:
 * branches, loop bodies, on_error and compensate lists, wait outcomes. Works on typed
 * definitions (`S` = Step) and on raw ones (anything but a map is passed over). A visit that
 * returns false does not descend into that step.
 */
export function walkSteps<S extends object = Step>(steps: unknown, visit: Visit<S>, path: FieldPath = ['steps']): void {
  walkList(stepsOf<S>(steps), visit, path, undefined);
}

type Visit<S> = (step: S, at: StepVisit<S>) => boolean | void;

function walkList<S extends object>(steps: [number, S][], visit: Visit<S>, path: FieldPath, parent: StepVisit<S> | undefined, list?: ChildList<S>): void {
  for (const [i, step] of steps) {
    const at: StepVisit<S> = { step, path: [...path, i], parent, role: list?.slot.role, branch: list?.name };
    if (visit(step, at) === false) continue;
    for (const child of childLists(step, at.path)) walkList(child.steps, visit, child.path, at, child);
  }
}

/** Every step of a definition with its path, at any depth. */
export function allSteps<S extends object = Step>(steps: unknown, path: FieldPath = ['steps']): StepVisit<S>[] {
  const found: StepVisit<S>[] = [];
  walkSteps<S>(steps, (_, at) => void found.push(at), path);
  return found;
}

/** Whether a step calls an agent or runs a workflow: a sequential step with a skill. */
export function isCallStep(step: unknown): step is SequentialStep {
  return isPlainObject(step) && kindOf(step.step_type)?.callsAgent === true && typeof step.skill === 'string';
}

/** A call step as found by callStepsById: the step's own fields, whatever they are. */
export interface FoundCallStep {
  id: string;
  skill: string;
  [field: string]: unknown;
}

/**
 * Every call step of a definition by id, at any depth (an id can repeat across exclusive
 * branches). `pallet retry` matches the calls of a failed run to their definitions with it.
 */
export function callStepsById(definition: Pick<WorkflowDefinition, 'steps'> | { steps?: unknown }): Map<string, FoundCallStep[]> {
  const found = new Map<string, FoundCallStep[]>();
  walkSteps<Record<string, unknown>>(definition.steps, (step) => {
    if (!isCallStep(step) || typeof step.id !== 'string') return;
    const list = found.get(step.id) ?? [];
    list.push(step as unknown as FoundCallStep);
    found.set(step.id, list);
  });
  return found;
}

/** The workflow a call step runs with execute_workflow, when it is a literal id (not a template); else undefined. */
export function literalWorkflowId(step: unknown): string | undefined {
  if (!isCallStep(step) || step.skill !== EXECUTE_WORKFLOW_SKILL || !isPlainObject(step.inputs)) return undefined;
  const id = step.inputs.workflow_id;
  return typeof id === 'string' && id.trim() && !id.includes('{{') && !id.trimStart().startsWith('${{') ? id : undefined;
}
