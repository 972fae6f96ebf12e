// Expressions: a string value that is exactly `${{ <CEL expression> }}` evaluates to the
// expression's value, with its type. CEL (Common Expression Language) is small, total and
// side-effect free: no loops, no I/O, no clock (there is no `now()`), so an expression gives
// the same value on every replay. Sandbox code: it runs inside the Temporal workflow, so no
// Node APIs here.
//
// The library is @marcbachmann/cel-js (zero dependencies, the CEL spec's macros and string
// functions, a type checker); docs/language.md#expressions says why it was chosen over cel-js.
//
// Variables: `workflow.input` (the run's input) and `steps.<id>.outputs` (what templates
// see; a step that has not run is absent, so `has(steps.x)` tells whether it ran). JSON
// numbers are CEL doubles; int and double mix freely in arithmetic and equality here
// (standard CEL refuses `1 + 1.5`), so `steps.x.outputs.count + 1` works whatever the agent
// sent. Results are made JSON: ints become numbers, maps plain objects, bytes base64 text,
// timestamps RFC 3339 text, durations "1.5s"; non-finite numbers are refused. `matches` is
// RE2's (linear time, regex.ts), and one evaluation has a bounded cost (expression-budget.ts):
// no expression stalls the workflow task it runs in.
import { Environment, EvaluationError, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../failure-types';
import type { TemplateContext } from './template-context';
import {
  CHARS_PER_STEP,
  chargeOnce,
  chargeSteps,
  CostExceeded,
  COST_EXCEEDED,
  meterEvaluator,
  REGEX_STEPS_PER_INSTRUCTION,
  regexStepsPerChar,
  RESULT_STEPS_PER_VALUE,
  withBudget,
} from './expression-budget';
import { compilePattern } from './regex';

/** A string that is one whole expression: `${{ ... }}`, with spaces around allowed. */
const WHOLE = /^\s*\$\{\{([\s\S]*)\}\}\s*$/;
/** What opens an expression anywhere in a string. */
export const EXPRESSION_OPENER = '${{';

/** The CEL text of a string that is exactly one expression, or undefined. */
export function expressionOf(value: string): string | undefined {
  const m = WHOLE.exec(value);
  if (!m || m[1].includes(EXPRESSION_OPENER)) return undefined;
  return m[1].trim();
}

/** Whether a string holds an expression (whole, or misplaced inside longer text). */
export function hasExpression(value: string): boolean {
  return value.includes(EXPRESSION_OPENER);
}

/** How an expression is shown in messages (long ones cut). */
export function showExpression(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return `\${{ ${one.length > 200 ? `${one.slice(0, 199)}…` : one} }}`;
}

/**
 * An expression that cannot be evaluated: no such key, a type mismatch, division by zero, a
 * result that is not JSON. Non-retryable: the same expression on the same data fails again,
 * and a workflow that threw a plain Error would instead retry its task forever.
 */
export class ExpressionError extends ApplicationFailure {
  constructor(
    /** The CEL text (without `${{ }}`). */
    readonly expression: string,
    /** Why it failed, one line. */
    readonly reason: string,
    message = `expression ${showExpression(expression)} failed: ${reason}`,
    details?: unknown[],
  ) {
    super(message, FailureTypes.expressionError, true, details);
  }
}

// ---- The environment -------------------------------------------------------------------

const ARITHMETIC = ['+', '-', '*', '/'] as const;

function createEnvironment(): Environment {
  const env = new Environment({
    // `[1, "a"]` and `{"a": 1, "b": [true]}` are JSON, so they are CEL here too.
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: 10_000, maxDepth: 100, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
  })
    .registerVariable('workflow', 'map', { description: 'workflow.input: the run input' })
    .registerVariable('steps', 'map', { description: 'steps.<id>.outputs: the stored output of each step that has run' })
    .registerVariable('item', 'dyn', { description: 'inside a for_each step: the current item' })
    .registerVariable('index', 'int', { description: 'inside a for_each step: the position of the current item, from 0' });
  // JSON numbers arrive as doubles and literals such as `1` are ints: let them mix, as JSON's
  // single number type does (standard CEL has no `double + int`).
  const toDouble = (n: unknown) => Number(n);
  const apply = (op: (typeof ARITHMETIC)[number], a: number, b: number) => (op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b);
  for (const op of ARITHMETIC) {
    env.registerOperator(`int ${op} double: double`, (a: bigint, b: number) => apply(op, toDouble(a), b));
    env.registerOperator(`double ${op} int: double`, (a: number, b: bigint) => apply(op, a, toDouble(b)));
  }
  // Registers both orders, and `!=`.
  env.registerOperator('int == double: bool', (a: bigint, b: number) => toDouble(a) === b);
  env.registerFunction('bytes.matches(ast): bool', matchesMacro).registerFunction('matches(ast, ast): bool', matchesMacro);
  // cel-js keeps its evaluator private, and hands it to macros: one `matches` at creation puts
  // the cost meter on it before any expression runs.
  env.evaluate("matches('', '')");
  if (!evaluatorMetered) throw new Error('cel-js did not hand its evaluator to the expression cost meter');
  return env;
}

// ---- matches: RE2 ------------------------------------------------------------------------

/** What cel-js gives a macro (its macro API): the call, its arguments, its receiver. */
interface MacroCall {
  ast: ASTNode;
  args: ASTNode[];
  receiver: ASTNode | null;
}
interface CelType {
  kind: string;
  name: string;
}
interface TypeChecker {
  check(node: ASTNode, ctx: unknown): CelType;
  getType(name: string): CelType;
  createError(code: string, message: string, node: ASTNode): Error;
}
interface Evaluator {
  run(node: ASTNode, ctx: unknown): unknown;
}

let evaluatorMetered = false;

/**
 * `s.matches(re)` and `matches(s, re)` with RE2 semantics (regex.ts), as the CEL spec has it.
 * cel-js's own `string.matches` uses JavaScript's backtracking RegExp and cannot be replaced: a
 * second `string.matches` is refused as an overlap. But cel-js looks macros up by name and
 * arity before any overload, whatever the receiver's type (its own `list.all` serves maps), so
 * RE2's is a macro, registered on receiver type `bytes` only to pass the overlap check; its
 * type check accepts strings as the built-in did, and refuses a literal pattern RE2 cannot
 * compile (so lint does).
 */
function matchesMacro({ ast, args, receiver }: MacroCall) {
  const [text, pattern] = receiver ? [receiver, args[0]] : args;
  const call = (types: string[]) => `found no matching overload for '${receiver ? `${types[0]}.matches(${types[1]})` : `matches(${types.join(', ')})`}'`;
  return {
    async: false,
    typeCheck(checker: TypeChecker, _macro: unknown, ctx: unknown): CelType {
      const types = [checker.check(text, ctx), checker.check(pattern, ctx)];
      if (!types.every((t) => t.name === 'string' || t.kind === 'dyn')) throw checker.createError('no_matching_overload', call(types.map((t) => t.name)), ast);
      if (pattern.op === 'value' && typeof pattern.args === 'string') {
        const compiled = compilePattern(pattern.args);
        if (!compiled.ok) throw checker.createError('invalid_argument', compiled.reason, pattern);
      }
      return checker.getType('bool');
    },
    evaluate(evaluator: Evaluator, _macro: unknown, ctx: unknown): boolean {
      if (!evaluatorMetered) {
        meterEvaluator(evaluator as unknown as Parameters<typeof meterEvaluator>[0]);
        evaluatorMetered = true;
      }
      const s = evaluator.run(text, ctx);
      const re = evaluator.run(pattern, ctx);
      if (typeof s !== 'string' || typeof re !== 'string') throw new EvaluationError(call([celTypeName(s), celTypeName(re)]), ast);
      const compiled = compilePattern(re);
      chargeOnce(`matches:${re}`, () => (compiled.ok ? compiled.size : re.length) * REGEX_STEPS_PER_INSTRUCTION);
      if (!compiled.ok) throw new EvaluationError(compiled.reason, pattern);
      chargeSteps(s.length * regexStepsPerChar(compiled.size));
      return compiled.re.test(s);
    },
  };
}

/** A value's CEL type name, for messages. */
function celTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v === 'string' ? 'string' : 'bool';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  return 'map';
}

let environment: Environment | undefined;
/** Built on first use: a definition without expressions never pays for it. */
function env(): Environment {
  environment ??= createEnvironment();
  return environment;
}

// ---- Parsing (cached) --------------------------------------------------------------------

type Parsed = { ok: true; run: ParseResult } | { ok: false; reason: string };
const CACHE_LIMIT = 500;
const cache = new Map<string, Parsed>();

/** Parses an expression once; the answer (a program or the reason it is not one) is cached. */
export function parseExpression(text: string): Parsed {
  const hit = cache.get(text);
  if (hit) return hit;
  let parsed: Parsed;
  try {
    parsed = { ok: true, run: env().parse(text) };
  } catch (err) {
    parsed = { ok: false, reason: describeCelError(err, true) };
  }
  // Which entries are kept never changes a result, only how often a text is parsed.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

/** One line from a CEL error (its summary, without the source excerpt), with the column where it has one. */
function describeCelError(err: unknown, withColumn: boolean): string {
  const e = err as { summary?: unknown; message?: unknown; range?: { start?: number } };
  const text = typeof e?.summary === 'string' ? e.summary : typeof e?.message === 'string' ? e.message.split('\n')[0] : String(err);
  const col = withColumn && typeof e?.range?.start === 'number' ? ` (at column ${e.range.start + 1} of the expression)` : '';
  return `${text}${col}`;
}

// ---- Evaluation ------------------------------------------------------------------------

/** The variables an expression sees. */
function celContext(ctx: TemplateContext): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (const outputs of ctx.loop ? [ctx.outputs, ctx.loop.outputs] : [ctx.outputs]) {
    for (const id of Object.keys(outputs)) {
      Object.defineProperty(steps, id, { value: { outputs: outputs[id] }, enumerable: true, writable: true, configurable: true });
    }
  }
  return ctx.loop ? { workflow: { input: ctx.input }, steps, item: ctx.loop.item, index: BigInt(ctx.loop.index) } : { workflow: { input: ctx.input }, steps };
}

/**
 * Evaluates a string that holds an expression: its JSON value. Throws ExpressionError, and
 * only that, whatever goes wrong (a string with text around `${{ }}` included: lint refuses it).
 */
export function evaluateExpressionString(value: string, ctx: TemplateContext): unknown {
  const text = expressionOf(value);
  if (text === undefined) {
    throw new ExpressionError(
      value.trim(),
      'an expression must be the whole value: write "${{ ... }}" alone, or build the text inside it (`"a " + string(x)`)',
      `misplaced expression in ${JSON.stringify(value.length > 200 ? `${value.slice(0, 199)}…` : value)}: an expression must be the whole string value`,
    );
  }
  return evaluateExpression(text, ctx);
}

/** Evaluates CEL text against the run's input and step outputs; the result as JSON. */
export function evaluateExpression(text: string, ctx: TemplateContext): unknown {
  const parsed = parseExpression(text);
  if (!parsed.ok) throw new ExpressionError(text, `syntax error: ${parsed.reason}`);
  const program = parsed.run;
  let evaluated = false;
  try {
    return withBudget(
      program.ast,
      () => program(celContext(ctx)),
      (value) => {
        evaluated = true;
        return toJson(value, 0);
      },
    );
  } catch (err) {
    if (err instanceof CostExceeded) throw new ExpressionError(text, COST_EXCEEDED);
    if (!evaluated) throw new ExpressionError(text, describeCelError(err, false));
    throw new ExpressionError(text, err instanceof Error ? err.message : String(err));
  }
}

const MAX_RESULT_DEPTH = 200;

/** A CEL value as JSON: what a step input, a condition value or a stored output can be. */
export function toJson(value: unknown, depth = 0): unknown {
  // A value can hold the same list or text many times over, so its JSON (what the history
  // records) can be far larger than it: it is counted as written.
  chargeSteps(RESULT_STEPS_PER_VALUE + (typeof value === 'string' ? value.length / CHARS_PER_STEP : 0));
  if (depth > MAX_RESULT_DEPTH) throw new Error(`the result nests more than ${MAX_RESULT_DEPTH} levels deep`);
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`the result ${String(value)} is not a JSON number (division by zero?)`);
      return Object.is(value, -0) ? 0 : value;
    case 'bigint':
      return intToNumber(value);
    case 'object':
      break;
    default:
      throw new Error(`the result is a ${typeof value}, not a JSON value`);
  }
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1));
  if (value instanceof Uint8Array) return base64(value);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error('the result is an invalid timestamp');
    return value.toISOString();
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) define(out, keyText(k), toJson(v, depth + 1));
    return out;
  }
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  // CEL's own value types, recognised by shape (the library does not export their classes).
  const shaped = value as { seconds?: unknown; nanos?: unknown; value?: unknown; name?: unknown; hasValue?: unknown };
  if (typeof shaped.seconds === 'bigint' && typeof shaped.nanos === 'number') return durationText(shaped.seconds, shaped.nanos);
  if (typeof tag === 'string' && tag.startsWith('Type<') && typeof shaped.name === 'string') return shaped.name;
  if (typeof shaped.hasValue === 'function') {
    const opt = value as { hasValue(): boolean; value(): unknown };
    return opt.hasValue() ? toJson(opt.value(), depth + 1) : null;
  }
  if (typeof shaped.value === 'bigint' && Object.getPrototypeOf(value) !== Object.prototype) return intToNumber(shaped.value);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    throw new Error(`the result holds a ${String(tag ?? proto?.constructor?.name ?? 'value')}, not a JSON value`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) define(out, k, toJson(v, depth + 1));
  return out;
}

/** Sets a key as data (`__proto__` included). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function keyText(key: unknown): string {
  return typeof key === 'string' ? key : typeof key === 'bigint' || typeof key === 'number' || typeof key === 'boolean' ? String(key) : String(toJson(key));
}

function intToNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`the result ${n} is an integer past 2^53, which a JSON number cannot hold exactly`);
  }
  return Number(n);
}

/** A duration as protobuf's JSON writes it: "3600s", "1.5s". */
function durationText(seconds: bigint, nanos: number): string {
  if (nanos === 0) return `${seconds}s`;
  const negative = seconds < 0n || nanos < 0;
  const abs = (seconds < 0n ? -seconds : seconds).toString();
  const frac = String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs}.${frac}s`;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b, c] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (b === undefined ? '=' : B64[(n >> 6) & 63]) + (c === undefined ? '=' : B64[n & 63]);
  }
  return out;
}

// ---- Static checks (lint) ----------------------------------------------------------------

/** A reference an expression makes to a step, for the same checks templates get. */
export interface ExpressionRef {
  stepId: string;
}

export type ExpressionCheck =
  /** `type`: CEL's type of the result as far as known (`bool`, `string`, `dyn`...); `loop`: it reads `item` or `index` (for_each). */
  { ok: true; refs: ExpressionRef[]; type: string; loop: boolean } | { ok: false; reason: string };

/**
 * Checks an expression without running it: its syntax, its types as far as they are known
 * (`size(1)`, `"a" > 1`; values read from the input and steps are dynamic), and that it reads
 * only `workflow.input` and `steps.<id>.outputs`. Returns the steps it reads.
 */
export function checkExpression(text: string): ExpressionCheck {
  if (text.trim() === '') return { ok: false, reason: 'the expression is empty' };
  const parsed = parseExpression(text);
  if (!parsed.ok) return { ok: false, reason: `syntax error: ${parsed.reason}` };
  let typed: ReturnType<ParseResult['check']>;
  try {
    typed = parsed.run.check();
  } catch (err) {
    return { ok: false, reason: describeCelError(err, true) };
  }
  if (!typed.valid) return { ok: false, reason: describeCelError(typed.error, true) };
  const refs: ExpressionRef[] = [];
  const wrong = collectRefs(parsed.run.ast, undefined, refs);
  if (wrong) return { ok: false, reason: wrong };
  const ids = [...new Set(refs.map((r) => r.stepId))];
  return {
    ok: true,
    refs: ids.map((stepId) => ({ stepId })),
    type: typed.type ?? 'dyn',
    loop: readsVariable(parsed.run.ast, 'item') || readsVariable(parsed.run.ast, 'index'),
  };
}

type Node = ASTNode;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string' && 'args' in v;

/** The field a member access reads: `a.b` and `a["b"]` (a literal key). */
function accessed(node: Node): { target: Node; field: string } | undefined {
  if ((node.op === '.' || node.op === '.?') && isNode(node.args[0])) return { target: node.args[0], field: String(node.args[1]) };
  if (
    (node.op === '[]' || node.op === '[?]') &&
    isNode(node.args[0]) &&
    isNode(node.args[1]) &&
    node.args[1].op === 'value' &&
    typeof node.args[1].args === 'string'
  ) {
    return { target: node.args[0], field: node.args[1].args };
  }
  return undefined;
}

/** Whether the tree reads the variable `name`. */
function readsVariable(node: Node, name: string): boolean {
  if (node.op === 'id' && node.args === name) return true;
  for (const arg of Array.isArray(node.args) ? node.args : [node.args]) {
    for (const child of Array.isArray(arg) ? arg : [arg]) if (isNode(child) && readsVariable(child, name)) return true;
  }
  return false;
}

/** Walks the tree; returns a problem with the variables read, or undefined. */
function collectRefs(node: Node, parent: Node | undefined, refs: ExpressionRef[]): string | undefined {
  const access = accessed(node);
  if (access && access.target.op === 'id') {
    const root = access.target.args;
    const next = parent ? accessed(parent) : undefined;
    const readsFurther = next !== undefined && next.target === node;
    if (root === 'workflow' && access.field !== 'input') return `"workflow.${access.field}": only "workflow.input" is available under "workflow"`;
    if (root === 'steps') {
      if (readsFurther && next.field !== 'outputs')
        return `"steps.${access.field}.${next.field}": step results are read under "outputs" (steps.${access.field}.outputs...)`;
      refs.push({ stepId: access.field });
    }
  }
  for (const arg of Array.isArray(node.args) ? node.args : [node.args]) {
    for (const child of Array.isArray(arg) ? arg : [arg]) {
      if (!isNode(child)) continue;
      const problem = collectRefs(child, node, refs);
      if (problem) return problem;
    }
  }
  return undefined;
}
