// What a run keeps in memory versus in the data store when its state grows large
// (docs/large-data.md). A step's output must stay in the workflow only while a step that has
// not finished may read it; every other finished output can wait in the data store, in a
// segment written when its generation ended, for the run's result and for `pallet retry`.
// Sandbox code: pure functions of the definition and the outputs.
import { payloadSize, type ClaimRef, type StateSegment, type StoredState } from '../contract';
import { STEP_KINDS, walkSteps } from '../dsl/step-kinds';
import { findExpressions, findTemplates, parseTemplatePath } from '../dsl/templates';
import type { Step, WorkflowDefinition } from '../dsl/types';

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

/**
 * The step ids that a step not yet finished may still read (undefined: any, an expression reads
 * `steps` as a whole). A finished step's compensation may still run, so it counts too.
 */
export function readableLater(definition: Pick<WorkflowDefinition, 'steps'>, finished: (stepId: string) => boolean): Set<string> | undefined {
  const ids = new Set<string>();
  let any = false;
  walkSteps(definition.steps, (step) => {
    if (finished(step.id)) {
      const undo = (step as { compensate?: Step[] }).compensate;
      if (undo && refsOf(undo, ids)) any = true;
      return false;
    }
    const fields = step as unknown as Record<string, unknown>;
    for (const field of Object.keys(STEP_KINDS[step.step_type].templated)) if (refsOf(fields[field], ids)) any = true;
  });
  return any ? undefined : ids;
}

/** The outputs a batch of branches may read, of those visible to it: only what its templates name (all when it cannot tell). */
export function outputsRead(branches: Step[], visible: Record<string, unknown>): Record<string, unknown> {
  const ids = readableLater({ steps: branches }, () => false);
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
function segmentsOf(outputs: [string, unknown][], keys: Record<string, string>): StateSegment[] {
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

/** Stores outputs (and their keys) as segments after those of `stored`; returns the state with them indexed. */
export async function addSegments(
  stored: StoredState | undefined,
  entries: [string, unknown][],
  keys: Record<string, string>,
  storeSegment: (segment: StateSegment) => Promise<ClaimRef>,
): Promise<StoredState> {
  const next: StoredState = { segments: [...(stored?.segments ?? [])], index: { ...(stored?.index ?? {}) } };
  const parts = segmentsOf(entries, keys);
  const refs = await Promise.all(parts.map(storeSegment));
  parts.forEach((part, i) => {
    for (const id of Object.keys(part.outputs)) next.index[id] = next.segments.length + i;
  });
  next.segments.push(...refs);
  return next;
}
