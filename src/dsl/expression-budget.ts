// The cost bound on one expression. CEL always ends, but not always soon: comprehensions
// nested over long lists, text rebuilt in a loop or values doubled by `cel.bind` can keep a
// workflow task busy for minutes, and a workflow task that does not answer in time is
// retried for good (the run can then neither be queried nor cancelled). cel-js 8 has
// parse-time limits only (AST size and depth), nothing at run time; it evaluates every
// sub-expression through its evaluator's `run` (the method its macro API hands to macros), so
// the meter counts there. The count is of work, never of time: a replay fails, or not,
// exactly as the run did. Sandbox code.

/** The most evaluation steps one expression may take: about a third of a second of work here. */
export const MAX_EXPRESSION_STEPS = 10_000_000;
/** Characters of text a string function reads or builds per step (a native search takes up to 17 ns a character). */
export const CHARS_PER_STEP = 2;
/**
 * Steps per character a regular expression reads: 2, and one more per 256 instructions of its
 * program (RE2 takes about 10 ns a character, up to 70-170 ns for a pattern of 4,000 instructions).
 */
export function regexStepsPerChar(instructions: number): number {
  return 2 + Math.floor(instructions / 256);
}

/** Steps per instruction of a compiled regular expression (RE2 compiles at about 1 µs an instruction). */
export const REGEX_STEPS_PER_INSTRUCTION = 100;
/** Steps per value of an expression's result made JSON (it allocates what it writes). */
export const RESULT_STEPS_PER_VALUE = 8;

/** What exceeding the budget says: the limit, what counts, what to do. */
export const COST_EXCEEDED =
  `the expression would cost more than ${thousands(MAX_EXPRESSION_STEPS)} evaluation steps, the limit for one expression ` +
  `(a step: a sub-expression evaluated, a list element or map entry handled, ${CHARS_PER_STEP} characters of text; more in docs/language.md#cost): ` +
  'give it less data, e.g. one item per for_each iteration';

function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Thrown when the budget is spent; the evaluation reports COST_EXCEEDED whatever CEL did with it. */
export class CostExceeded extends Error {
  constructor() {
    super(COST_EXCEEDED);
  }
}

/** How a sub-expression's work grows with its operands. */
const enum Work {
  /** Reads a field, branches, builds a literal, loops (each iteration is counted as evaluated). */
  Constant,
  /** Reads and builds its operands once: `+`, string functions, `join`, `split`. */
  Linear,
  /** Walks its operands deeply: `==`, `<`... on lists and maps. */
  Deep,
  /** `in`: a walk of a list, a lookup in a map. */
  Membership,
}

/** Functions whose cost does not grow with their operands (macros loop, and each iteration is counted). */
const CONSTANT_FUNCTIONS = new Set(['size', 'has', 'type', 'dyn', 'all', 'exists', 'exists_one', 'map', 'filter', 'bind', 'matches']);

interface EvaluatedNode {
  readonly op: string;
  readonly args: unknown;
}

function workOf(node: EvaluatedNode): Work {
  switch (node.op) {
    case 'call':
    case 'rcall':
      return CONSTANT_FUNCTIONS.has((node.args as unknown[])[0] as string) ? Work.Constant : Work.Linear;
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return Work.Deep;
    case 'in':
      return Work.Membership;
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '-_':
      return Work.Linear;
    default:
      return Work.Constant;
  }
}

type Run = (this: unknown, node: EvaluatedNode, ctx: unknown) => unknown;

/** One evaluation's account. */
class Meter {
  spent = 0;
  /** How the sub-expression being evaluated works, and the weight of the operands it has read so far. */
  work = Work.Constant;
  read = 0;
  /** What chargeOnce has charged in this evaluation. */
  readonly chargedOnce = new Set<string>();
  private readonly shallowWeights = new WeakMap<object, number>();
  private readonly deepWeights = new WeakMap<object, number>();

  constructor(rootWork: Work) {
    this.work = rootWork;
  }

  /** Set once the budget is spent, and thrown again by any later step. */
  exceeded: CostExceeded | undefined;

  charge(steps: number): void {
    this.spent += steps;
    if (this.spent > MAX_EXPRESSION_STEPS) throw (this.exceeded ??= new CostExceeded());
  }

  run(run: Run, evaluator: unknown, node: EvaluatedNode, ctx: unknown): unknown {
    this.charge(1);
    const outerWork = this.work;
    const outerRead = this.read;
    const work = workOf(node);
    this.work = work;
    this.read = 0;
    let value: unknown;
    let read = 0;
    try {
      value = run.call(evaluator, node, ctx);
    } finally {
      read = this.read;
      this.work = outerWork;
      this.read = outerRead;
    }
    if (work !== Work.Constant) this.charge(read + this.weigh(value, Work.Linear));
    if (outerWork !== Work.Constant) this.read += this.weigh(value, outerWork);
    return value;
  }

  /** The steps handling a value costs an operation that works as `work` does. */
  weigh(value: unknown, work: Work): number {
    if (typeof value === 'string') return value.length / CHARS_PER_STEP;
    if (typeof value !== 'object' || value === null) return 0;
    if (value instanceof Uint8Array) return value.length / CHARS_PER_STEP;
    if (work === Work.Membership && !Array.isArray(value)) return 0;
    return work === Work.Linear ? this.shallow(value) : this.deep(value);
  }

  private shallow(value: object): number {
    if (Array.isArray(value)) return value.length;
    if (value instanceof Map || value instanceof Set) return value.size;
    if (!isPlain(value)) return 0;
    let n = this.shallowWeights.get(value);
    if (n === undefined) this.shallowWeights.set(value, (n = Object.keys(value).length));
    return n;
  }

  /** Elements at every depth; computed once per object, so a value that holds the same list twice is cheap to weigh, not to walk. */
  private deep(value: object): number {
    const known = this.deepWeights.get(value);
    if (known !== undefined) return known;
    let n = this.shallow(value);
    if (Array.isArray(value) || value instanceof Set) for (const v of value) n += this.weigh(v, Work.Deep);
    else if (value instanceof Map) for (const [k, v] of value) n += this.weigh(k, Work.Deep) + this.weigh(v, Work.Deep);
    else if (isPlain(value)) for (const v of Object.values(value)) n += this.weigh(v, Work.Deep);
    this.deepWeights.set(value, n);
    return n;
  }
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

let active: Meter | undefined;
const metered = new WeakSet<object>();

/**
 * Counts every sub-expression a cel-js evaluator runs while a budget is open (withBudget), and
 * makes a spent budget final: CEL goes on past errors in `||`, `&&`, `all` and `exists` (its
 * `tryEval`), which would run the rest of a long loop only to fail each step again.
 */
export function meterEvaluator(evaluator: { run: Run; tryEval: Run }): void {
  if (metered.has(evaluator)) return;
  metered.add(evaluator);
  const { run, tryEval } = evaluator;
  evaluator.run = function meteredRun(this: unknown, node: EvaluatedNode, ctx: unknown): unknown {
    const meter = active;
    return meter ? meter.run(run, this, node, ctx) : run.call(this, node, ctx);
  };
  evaluator.tryEval = function finalTryEval(this: unknown, node: EvaluatedNode, ctx: unknown): unknown {
    const result = tryEval.call(this, node, ctx);
    if (result !== undefined && result === active?.exceeded) throw result;
    return result;
  };
}

/**
 * Runs one evaluation with a fresh budget: `evaluate` runs the expression `root` (its operands
 * are weighed as any sub-expression's), `finish` makes its value a result (charging through
 * chargeSteps). Throws CostExceeded when the budget is spent, even if CEL went on past the failure.
 */
export function withBudget<T>(root: EvaluatedNode, evaluate: () => unknown, finish: (value: unknown) => T): T {
  const outer = active;
  const meter = new Meter(workOf(root));
  active = meter;
  try {
    const value = evaluate();
    if (meter.work !== Work.Constant) meter.charge(meter.read + meter.weigh(value, Work.Linear));
    const result = finish(value);
    if (meter.exceeded) throw meter.exceeded;
    return result;
  } catch (err) {
    throw meter.exceeded ?? err;
  } finally {
    active = outer;
  }
}

/** Charges steps to the evaluation in progress (none outside withBudget). */
export function chargeSteps(steps: number): void {
  active?.charge(steps);
}

/**
 * Charges work done once per evaluation for `key` (compiling a pattern), whether a cache
 * spares it or not: caches differ between workers, and a replay must count as the run did.
 */
export function chargeOnce(key: string, steps: () => number): void {
  if (!active || active.chargedOnce.has(key)) return;
  active.chargedOnce.add(key);
  active.charge(steps());
}
