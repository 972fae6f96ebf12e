// What a run keeps in memory versus in the data store when its state grows large
// (docs/large-data.md). A step's output must stay in the workflow only while a step that has
// not finished may read it; every other finished output can wait in the data store, in a
// segment written when its generation ended, for the run's result and for `pallet retry`.
// Sandbox code: pure functions of the definition and the outputs.
import { payloadSize, type StateSegment } from '../contract';
import { findExpressions, findTemplates, isPlainObject, parseTemplatePath } from '../dsl/templates';
import type { Step, WorkflowDefinition } from '../dsl/types';

/** Fields of a step that hold other steps. */
const CHILD_LISTS = ['branches', 'steps', 'on_error', 'compensate'];

/** The step lists directly inside a step (branches of any kind, loop bodies, fallbacks, compensation). */
function childLists(step: Step): Step[][] {
  const raw = step as unknown as Record<string, unknown>;
  const lists: Step[][] = [];
  for (const field of CHILD_LISTS) {
    const value = raw[field];
    if (Array.isArray(value)) lists.push(value as Step[]);
    else if (field === 'branches' && isPlainObject(value)) for (const branch of Object.values(value)) if (Array.isArray(branch)) lists.push(branch as Step[]);
  }
  return lists;
}

/** `steps.<id>` or `steps["<id>"]` in an expression; any other use of `steps` may read any step. */
const EXPRESSION_REF = /\bsteps\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['"])([^'"]+)\2\s*\])/g;
const ANY_STEPS = /\bsteps\b/g;

/** The ids a value's templates and expressions read; `all` when an expression may read any. */
function refsOf(value: unknown, into: Set<string>): boolean {
  for (const { text } of findTemplates(value)) {
    const ref = parseTemplatePath(text);
    if (ref.kind === 'step') into.add(ref.stepId);
  }
  for (const { value: text } of findExpressions(value)) {
    const named = [...text.matchAll(EXPRESSION_REF)];
    for (const m of named) into.add(m[1] ?? m[3]);
    if ((text.match(ANY_STEPS) ?? []).length > named.length) return true;
  }
  return false;
}

/** A step's own fields, without the steps inside it. */
function ownFields(step: Step): Record<string, unknown> {
  return Object.fromEntries(Object.entries(step).filter(([field]) => !CHILD_LISTS.includes(field)));
}

/**
 * The step ids that a step not yet finished may still read (undefined: any, an expression reads
 * `steps` as a whole). A finished step's compensation may still run, so it counts too.
 */
export function readableLater(definition: WorkflowDefinition, finished: (stepId: string) => boolean): Set<string> | undefined {
  const ids = new Set<string>();
  let any = false;
  const visit = (steps: Step[]): void => {
    for (const step of steps) {
      if (finished(step.id)) {
        const undo = (step as { compensate?: Step[] }).compensate;
        if (undo && refsOf(undo, ids)) any = true;
        continue;
      }
      if (refsOf(ownFields(step), ids)) any = true;
      for (const list of childLists(step)) visit(list);
    }
  };
  visit(definition.steps);
  return any ? undefined : ids;
}

/** The outputs a batch of branches may read, of those visible to it: only what its templates name (all when it cannot tell). */
export function outputsRead(branches: Step[], visible: Record<string, unknown>): Record<string, unknown> {
  const ids = readableLater({ metadata: { id: '', name: '', version: '', description: '', tags: [] }, steps: branches }, () => false);
  if (!ids) return visible;
  return Object.fromEntries([...ids].filter((id) => Object.prototype.hasOwnProperty.call(visible, id)).map((id) => [id, visible[id]]));
}

/** The loop a qualified body step id belongs to (`loop[3].b` → `loop`), or undefined for a plain id. */
export function loopOf(stepId: string): string | undefined {
  const at = stepId.indexOf('[');
  return at > 0 ? stepId.slice(0, at) : undefined;
}

/** Bytes of state sent to the data store in one activity call at most (its input stays well under a payload). */
export const SEGMENT_BYTES = 1_000_000;

/** Splits outputs (and their keys) into segments of at most SEGMENT_BYTES each, in the order given. */
export function segmentsOf(outputs: [string, unknown][], keys: Record<string, string>): StateSegment[] {
  const segments: StateSegment[] = [];
  let current: StateSegment = { outputs: {}, keys: {} };
  let bytes = 0;
  for (const [id, value] of outputs) {
    const size = payloadSize(value) + id.length * 2 + 64;
    if (bytes > 0 && bytes + size > SEGMENT_BYTES) {
      segments.push(current);
      current = { outputs: {}, keys: {} };
      bytes = 0;
    }
    Object.defineProperty(current.outputs, id, { value, enumerable: true, writable: true, configurable: true });
    if (keys[id] !== undefined) current.keys[id] = keys[id];
    bytes += size;
  }
  if (bytes > 0) segments.push(current);
  return segments;
}
