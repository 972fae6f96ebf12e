// Template resolution: `{{ workflow.input.x }}` and `{{ steps.<id>.outputs.y }}`.
// Pure code (it imports only sandbox-safe modules): it runs inside the Temporal
// workflow sandbox.
//
// Pallet's rules, kept: a string that is exactly one template yields the value with its type;
// a path that does not exist yields null. Pallet's bugs, fixed: text around a template and
// several templates in one string are interpolated, and lists are resolved at any depth.
// A string that is exactly `${{ <CEL> }}` is an expression instead (./expressions.ts): a
// Pallet file never holds `${{`, so Pallet's results are untouched.
import { evaluateExpressionString, hasExpression } from './expressions';
import { interpolationText } from './interpolation-text';
import { isPlainObject } from './plain-object';
import type { TemplateContext } from './template-context';

export { interpolationText } from './interpolation-text';
export { isPlainObject } from './plain-object';
export type { LoopFrame, TemplateContext } from './template-context';

const WHOLE = /^\s*\{\{\s*([^{}]*?)\s*\}\}\s*$/;
const ANY = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A parsed template path: where it points and the path segments after the root. */
export type TemplateRef =
  | { kind: 'input'; path: string[]; text: string }
  /** `record`: the path is `steps.<id>` alone, the step's `{ outputs }` record. */
  | { kind: 'step'; stepId: string; path: string[]; record: boolean; text: string }
  /** `item...` or `index` inside a for_each step. */
  | { kind: 'loop'; field: 'item' | 'index'; path: string[]; text: string }
  | { kind: 'invalid'; text: string; reason: string };

export function parseTemplatePath(text: string): TemplateRef {
  const parts = text.split('.').map((p) => p.trim());
  if (parts.some((p) => p === '')) return { kind: 'invalid', text, reason: 'empty path segment' };
  if (parts[0] === 'workflow') {
    if (parts[1] !== 'input') return { kind: 'invalid', text, reason: 'only "workflow.input" is available under "workflow"' };
    return { kind: 'input', path: parts.slice(2), text };
  }
  if (parts[0] === 'steps') {
    if (parts.length < 2) return { kind: 'invalid', text, reason: 'missing step id after "steps"' };
    if (parts.length > 2 && parts[2] !== 'outputs') {
      return { kind: 'invalid', text, reason: `expected "steps.${parts[1]}.outputs..." (step results are read under "outputs")` };
    }
    return { kind: 'step', stepId: parts[1], path: parts.slice(3), record: parts.length === 2, text };
  }
  if (parts[0] === 'item') return { kind: 'loop', field: 'item', path: parts.slice(1), text };
  if (parts[0] === 'index') {
    if (parts.length === 1) return { kind: 'loop', field: 'index', path: [], text };
    return { kind: 'invalid', text, reason: '"index" is a number: it has no fields' };
  }
  return { kind: 'invalid', text, reason: 'a template path starts with "workflow.input", "steps.<id>.outputs" or (in a for_each step) "item" or "index"' };
}

/** Every template in a value (strings, lists and maps at any depth), with where it sits; strings holding an expression are left to findExpressions. */
export function findTemplates(value: unknown, at: (string | number)[] = []): { text: string; path: (string | number)[] }[] {
  if (typeof value === 'string') return hasExpression(value) ? [] : [...value.matchAll(ANY)].map((m) => ({ text: m[1], path: at }));
  if (Array.isArray(value)) return value.flatMap((v, i) => findTemplates(v, [...at, i]));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => findTemplates(v, [...at, k]));
  return [];
}

/** Every string holding `${{` in a value (strings, lists and maps at any depth), with where it sits. */
export function findExpressions(value: unknown, at: (string | number)[] = []): { value: string; path: (string | number)[] }[] {
  if (typeof value === 'string') return hasExpression(value) ? [{ value, path: at }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findExpressions(v, [...at, i]));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => findExpressions(v, [...at, k]));
  return [];
}

/** The value at a template path, or null when any part of it is missing (Pallet's rule). */
export function lookup(text: string, ctx: TemplateContext): unknown {
  const ref = parseTemplatePath(text);
  if (ref.kind === 'invalid') return null;
  let current: unknown;
  if (ref.kind === 'input') current = ctx.input;
  else if (ref.kind === 'loop') {
    if (!ctx.loop) return null;
    current = ref.field === 'item' ? ctx.loop.item : ctx.loop.index;
  } else {
    // This iteration's steps first, then the run's.
    const outputs = ctx.loop && Object.prototype.hasOwnProperty.call(ctx.loop.outputs, ref.stepId) ? ctx.loop.outputs : ctx.outputs;
    if (!Object.prototype.hasOwnProperty.call(outputs, ref.stepId)) return null;
    current = ref.record ? { outputs: outputs[ref.stepId] } : outputs[ref.stepId];
  }
  for (const key of ref.path) {
    if (Array.isArray(current) && /^\d+$/.test(key)) current = current[Number(key)];
    else if (isPlainObject(current) && Object.prototype.hasOwnProperty.call(current, key)) current = current[key];
    else return null;
    if (current === undefined) return null;
  }
  return current === undefined ? null : current;
}

/**
 * Resolves every template and expression in a value: strings, lists and maps at any depth.
 * An expression that cannot be evaluated throws ExpressionError (a non-retryable failure).
 */
export function resolveValue(value: unknown, ctx: TemplateContext): unknown {
  if (typeof value === 'string') {
    if (hasExpression(value)) return evaluateExpressionString(value, ctx);
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1], ctx);
    if (!value.includes('{{')) return value;
    return value.replace(ANY, (_m, path: string) => interpolationText(lookup(path, ctx)));
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, ctx));
  // fromEntries defines every key as data, `__proto__` included.
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, ctx)]));
  return value;
}

/** Python's truthiness: null, false, 0, "", [] and {} are false. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Python's `str()` of a JSON value, as Pallet's switch uses to pick a branch. */
export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  return pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/**
 * A JSON number as Python writes it. Integers as digits; other numbers as Python's float
 * repr, which switches to exponent form below 1e-4 (`1e-05`, JavaScript: `0.00001`).
 * (A JSON `2.0` reaches us as 2, so it is written `2` where Python writes `2.0`.)
 */
function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n) || Math.abs(n) >= 1e-4) return String(n);
  const [mantissa, exponent] = n.toExponential().split('e');
  const exp = Number(exponent);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python's repr() of a string: single quotes unless the text has ' and no ", escapes spelled out. */
function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').split(quote).join(`\\${quote}`);
  return `${quote}${escaped}${quote}`;
}
