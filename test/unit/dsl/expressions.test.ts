// `${{ }}` expressions (CEL): evaluation, conversion of results to JSON, runtime errors with
// their messages, lint problems with their locations, and the walker using expressions in
// conditions, switch values and inputs.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../../src/contract';
import { adviseDefinition } from '../../../src/dsl/advice';
import { COST_EXCEEDED, MAX_EXPRESSION_STEPS } from '../../../src/dsl/expression-budget';
import { checkExpression, evaluateExpression, expressionOf, ExpressionError, toJson } from '../../../src/dsl/expressions';
import { formatProblem, parseDefinition, type LintProblem } from '../../../src/dsl/loader';
import { findTemplates, resolveValue, type TemplateContext } from '../../../src/dsl/templates';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PALLET_WORKFLOWS } from '../../helpers/pallet';
import { def, echo, run, steps } from '../workflows/harness';

const CTX: TemplateContext = {
  input: { priority: 'high', n: 5, half: 0.5, name: 'Ada', tags: ['a', 'b'] },
  outputs: {
    review: { score: 0.9, issues: [], count: 5 },
    plan: {
      items: [
        { name: 'api', enabled: true },
        { name: 'ui', enabled: false },
        { name: 'db', enabled: true },
      ],
    },
    bare: 'text',
  },
};

const ev = (text: string, ctx: TemplateContext = CTX) => evaluateExpression(text, ctx);

/** The ExpressionError an expression throws. */
function failure(text: string, ctx: TemplateContext = CTX): ExpressionError {
  try {
    ev(text, ctx);
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `expected an ExpressionError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected "${text}" to fail`);
}

describe('dsl/expressions', () => {
  describe('syntax', () => {
    it('a string that is exactly ${{ ... }} is an expression, spaces allowed', () => {
      assert.equal(expressionOf('${{ 1 + 1 }}'), '1 + 1');
      assert.equal(expressionOf('  ${{1+1}}  '), '1+1');
      assert.equal(expressionOf("${{ {'a': {'b': 1}} }}"), "{'a': {'b': 1}}");
      assert.equal(expressionOf('${{\n  steps.a.outputs.x\n}}'), 'steps.a.outputs.x');
      assert.equal(expressionOf('a ${{ 1 }}'), undefined);
      assert.equal(expressionOf('${{ 1 }} and ${{ 2 }}'), undefined);
      assert.equal(expressionOf('{{ workflow.input.x }}'), undefined);
    });

    it('resolveValue evaluates expressions at any depth of inputs, with their types', () => {
      const resolved = resolveValue(
        {
          a: '${{ workflow.input.n * 2 }}',
          b: ['${{ workflow.input.name + "!" }}', { c: '${{ has(steps.review) }}' }],
          t: '{{ workflow.input.name }}',
          plain: 'x',
        },
        CTX,
      );
      assert.deepEqual(resolved, { a: 10, b: ['Ada!', { c: true }], t: 'Ada', plain: 'x' });
    });

    it('{{ }} templates keep their meaning, and are not looked for inside expressions', () => {
      assert.equal(resolveValue('{{ steps.missing.outputs.x }}', CTX), null);
      assert.equal(resolveValue('n={{ workflow.input.n }}', CTX), 'n=5');
      assert.deepEqual(findTemplates({ a: '${{ {"k": 1}.k }}', b: '{{ workflow.input.n }}' }), [{ text: 'workflow.input.n', path: ['b'] }]);
    });

    it('an expression inside longer text fails at run time too (lint refuses it first)', () => {
      assert.throws(
        () => resolveValue('a ${{ 1 + 1 }} b', CTX),
        (err: unknown) => err instanceof ExpressionError && /must be the whole string value/.test(err.message),
      );
    });
  });

  describe('evaluation', () => {
    const cases: [string, unknown][] = [
      ['steps.review.outputs.score >= 0.8 && size(steps.review.outputs.issues) == 0', true],
      ["workflow.input.priority in ['high', 'urgent'] ? 'fast' : 'normal'", 'fast'],
      ['steps.plan.outputs.items.filter(i, i.enabled).map(i, i.name)', ['api', 'db']],
      ['steps.plan.outputs.items.all(i, has(i.name))', true],
      ['steps.plan.outputs.items.exists(i, i.name == "ui")', true],
      ['steps.plan.outputs.items.exists_one(i, i.name.startsWith("d"))', true],
      ['has(steps.review)', true],
      ['has(steps.never)', false],
      ['has(steps.review.outputs.score)', true],
      ['has(steps.review.outputs.nope)', false],
      ['steps.bare.outputs', 'text'],
      ['workflow.input.name.startsWith("A") && workflow.input.name.endsWith("a") && workflow.input.name.contains("d")', true],
      ['workflow.input.name.matches("^A.a$")', true],
      ['workflow.input.name.lowerAscii()', 'ada'],
      ['workflow.input.name.upperAscii()', 'ADA'],
      ['size(workflow.input.tags)', 2],
      ['workflow.input.tags.join(",")', 'a,b'],
      ['"b" in workflow.input.tags', true],
      ['"a,b".split(",")', ['a', 'b']],
      ['{"k": workflow.input.n, "list": [1, "x", null, true]}', { k: 5, list: [1, 'x', null, true] }],
      ['string(workflow.input.n)', '5'],
      ['int(workflow.input.half * 10.0)', 5],
      ['type(workflow.input.n) == double', true],
    ];
    for (const [text, expected] of cases) {
      it(`${text} → ${JSON.stringify(expected)}`, () => assert.deepEqual(ev(text), expected));
    }

    it('JSON numbers are doubles; comparisons with ints work whether the value is 5 or 5.0', () => {
      for (const count of [5, 5.0]) {
        const ctx = { input: {}, outputs: { x: { count } } };
        assert.equal(ev('steps.x.outputs.count > 3', ctx), true);
        assert.equal(ev('steps.x.outputs.count == 5', ctx), true);
        assert.equal(ev('steps.x.outputs.count != 5', ctx), false);
        assert.equal(ev('steps.x.outputs.count in [1, 5]', ctx), true);
        assert.equal(ev('size([1, 2, 3, 4, 5]) == steps.x.outputs.count', ctx), true);
      }
    });

    it('ints and doubles mix in arithmetic (a JSON number plus a literal int works)', () => {
      assert.equal(ev('workflow.input.n + 1'), 6);
      assert.equal(ev('workflow.input.n - 1'), 4);
      assert.equal(ev('workflow.input.n / 2'), 2.5);
      assert.equal(ev('2 * workflow.input.half'), 1);
      assert.equal(ev('1 + 1.5'), 2.5);
      assert.equal(ev('7 / 2'), 3, 'int / int stays integer division, as CEL');
      assert.equal(ev('int(workflow.input.n) % 2'), 1);
    });

    it('results are JSON: ints → numbers, bytes → base64, timestamps → RFC 3339, durations → "Ns", types → names', () => {
      assert.equal(ev('40 + 2'), 42);
      assert.equal(typeof ev('40 + 2'), 'number');
      assert.equal(ev('3u'), 3);
      assert.equal(ev('b"hello"'), 'aGVsbG8=');
      assert.equal(ev('b"hi"'), 'aGk=');
      assert.equal(ev('timestamp("2024-01-01T00:00:00Z") + duration("90m")'), '2024-01-01T01:30:00.000Z');
      assert.equal(ev('duration("1h")'), '3600s');
      assert.equal(ev('duration("1.5s")'), '1.5s');
      assert.equal(ev('type("x")'), 'string');
      assert.deepEqual(ev('{1: "a", true: "b"}'), { 1: 'a', true: 'b' });
      assert.equal(ev('-0.0'), 0);
      assert.deepEqual(toJson(new Map([[1n, [2n]]])), { 1: [2] });
    });

    it('keys such as __proto__ stay data', () => {
      const ctx = { input: JSON.parse('{"o": {"__proto__": {"a": 1}}}') as Record<string, unknown>, outputs: {} };
      const out = ev('workflow.input.o', ctx) as Record<string, unknown>;
      assert.deepEqual(Object.keys(out), ['__proto__']);
      assert.equal(Object.getPrototypeOf(out), Object.prototype);
      assert.equal(ev('has(workflow.input.o.constructor)', ctx), false);
    });

    it('the same expression gives the same value every time (no clock: now() does not exist)', () => {
      assert.deepEqual(ev('steps.plan.outputs.items.map(i, i.name)'), ev('steps.plan.outputs.items.map(i, i.name)'));
      assert.match(checkExpression('now()').ok ? '' : (checkExpression('now()') as { reason: string }).reason, /no matching overload for 'now\(\)'/);
    });
  });

  describe('runtime errors', () => {
    const cases: [string, RegExp][] = [
      ['steps.review.outputs.nope', /No such key: nope/],
      ['steps.never.outputs.x', /No such key: never/],
      ['workflow.input.n / 0', /not a JSON number \(division by zero\?\)/],
      ['1 / 0', /division by zero/],
      ['workflow.input.name > 1', /no such overload: dyn<string> > int/],
      ['size(workflow.input.n)', /no matching overload for 'size\(double\)'/],
      ['workflow.input.tags[5]', /index out of bounds/],
      ['int("x")', /cannot convert to int/],
      ['9223372036854775807 + 1', /integer overflow/],
      ['9007199254740993', /past 2\^53/],
      ['1 +', /syntax error: Unexpected token: EOF/],
    ];
    for (const [text, reason] of cases) {
      it(`${text}: ${reason.source}`, () => {
        const err = failure(text);
        assert.match(err.reason, reason);
        assert.equal(err.expression, text);
        assert.ok(err.message.includes(`\${{ ${text} }}`), err.message);
        assert.doesNotMatch(err.message, /\n/, 'one line');
        // A failure Temporal records as such: non-retryable, typed, never a workflow task failure.
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, FailureTypes.expressionError);
        assert.equal(err.nonRetryable, true);
      });
    }
  });

  describe('matches: RE2 syntax and linear time', () => {
    const AS = 'a'.repeat(99_999);
    const big = (text: string): TemplateContext => ({ input: {}, outputs: { big: { text } } });

    /** Evaluates and says how long it took. */
    function timed(text: string, ctx: TemplateContext): { value: unknown; ms: number } {
      const began = performance.now();
      const value = ev(text, ctx);
      return { value, ms: performance.now() - began };
    }

    it("'^(a+)+$' over 100 KB answers at once (JavaScript's backtracking RegExp never ends on it)", () => {
      const failing = timed("steps.big.outputs.text.matches('^(a+)+$')", big(`${AS}!`));
      assert.equal(failing.value, false);
      assert.ok(failing.ms < 2000, `took ${failing.ms} ms`);
      const matching = timed("matches(steps.big.outputs.text, '^(a+)+$')", big(`${AS}a`));
      assert.equal(matching.value, true);
      assert.ok(matching.ms < 2000, `took ${matching.ms} ms`);
    });

    const cases: [string, boolean][] = [
      ["'xabcx'.matches('abc')", true],
      ["'abc'.matches('^b')", false],
      ["matches('abc', 'c$')", true],
      ["'ABC'.matches('(?i)^abc$')", true],
      ["'a1'.matches('^\\\\w\\\\d$')", true],
      // RE2 reads code points: one emoji is one character (a JavaScript RegExp without /u sees two).
      ["'😀'.matches('^.$')", true],
    ];
    for (const [text, expected] of cases) {
      it(`${text} → ${expected}`, () => assert.equal(ev(text), expected));
    }

    it('a pattern RE2 cannot compile is an ExpressionError naming the pattern and why', () => {
      const ctx = (pattern: string): TemplateContext => ({ input: { name: 'Ada', pattern }, outputs: {} });
      const backreference = failure('workflow.input.name.matches(workflow.input.pattern)', ctx('(a)\\1'));
      assert.equal(
        backreference.reason,
        'invalid regular expression "(a)\\\\1": invalid escape sequence: `\\1` (matches uses RE2 syntax: no backreferences or lookaround)',
      );
      const lookahead = failure('matches(workflow.input.name, workflow.input.pattern)', ctx('A(?=d)'));
      assert.match(lookahead.reason, /^invalid regular expression "A\(\?=d\)": invalid or unsupported Perl syntax: `\(\?=`/);
      assert.equal(lookahead.type, FailureTypes.expressionError);
      assert.equal(lookahead.nonRetryable, true);
    });

    it('matches takes strings only, as CEL says', () => {
      assert.match(failure("workflow.input.n.matches('5')").reason, /found no matching overload for 'double\.matches\(string\)'/);
      assert.match(failure("matches('5', workflow.input.n)").reason, /found no matching overload for 'matches\(string, double\)'/);
      assert.match((checkExpression("1.matches('a')") as { reason: string }).reason, /found no matching overload for 'int\.matches\(string\)'/);
    });

    it('lint refuses a literal pattern RE2 cannot compile, with the pattern, where it is', () => {
      const body = `
  - id: gate
    step_type: conditional
    condition: "\${{ workflow.input.name.matches('^(?!admin)') }}"
    branches: { if_true: [{ id: x, skill: s }] }
`;
      const r = parseDefinition(`metadata: {id: t, name: T, version: "1"}\nsteps:\n${body}`, 'wf.yaml');
      assert.ok(!r.ok);
      assert.deepEqual(r.problems.map(formatProblem), [
        'wf.yaml:6:16: step "gate": invalid expression "${{ workflow.input.name.matches(\'^(?!admin)\') }}": invalid regular expression "^(?!admin)": ' +
          'invalid or unsupported Perl syntax: `(?!` (matches uses RE2 syntax: no backreferences or lookaround) (at column 29 of the expression)',
      ]);
      assert.deepEqual(
        checkExpression('workflow.input.name.matches(workflow.input.pattern)'),
        { ok: true, refs: [], type: 'bool', loop: false },
        'a pattern from data is checked when it runs',
      );
    });
  });

  describe('the cost bound', () => {
    const TEXT = `${'a'.repeat(99_999)}!`;
    const ctx: TemplateContext = { input: {}, outputs: { big: { text: TEXT, items: TEXT.split('') } } };

    /** The failure of an expression over 100 KB, which must come within seconds (a third of a second on an idle machine). */
    function tooCostly(text: string): ExpressionError {
      const began = performance.now();
      const err = failure(text, ctx);
      const ms = performance.now() - began;
      assert.equal(err.reason, COST_EXCEEDED);
      assert.ok(ms < 10_000, `failed after ${ms} ms`);
      return err;
    }

    it('comprehensions nested over 100,000 items fail with the limit named, instead of running for hours', () => {
      const err = tooCostly("steps.big.outputs.items.exists(a, steps.big.outputs.items.exists(b, a + b == '!!'))");
      assert.match(err.message, /failed: the expression would cost more than 10,000,000 evaluation steps, the limit for one expression \(/);
      assert.equal(MAX_EXPRESSION_STEPS, 10_000_000);
      assert.equal(err.type, FailureTypes.expressionError);
      assert.equal(err.nonRetryable, true);
    });

    it('a linear function in a loop over its own input costs its input every time', () => {
      tooCostly("steps.big.outputs.items.all(c, !steps.big.outputs.text.contains(c + 'b'))");
      tooCostly('steps.big.outputs.items.all(c, c in steps.big.outputs.items)');
      tooCostly("steps.big.outputs.items.all(c, !steps.big.outputs.text.matches(c + 'b'))");
    });

    it('compiling a new pattern counts its size, once per expression (the cache does not change the count)', () => {
      const numbers: TemplateContext = { input: { l: Array.from({ length: 10_000 }, (_, i) => i), p: 'b'.repeat(1000) }, outputs: {} };
      const began = performance.now();
      assert.equal(failure("workflow.input.l.all(i, !'x'.matches(string(i) + workflow.input.p))", numbers).reason, COST_EXCEEDED);
      assert.ok(performance.now() - began < 10_000);
      assert.equal(ev("workflow.input.l.all(i, string(i).matches('^[0-9]+$'))", numbers), true, 'one pattern, 10,000 times');
    });

    it('matching counts each character of the text, more for a pattern of thousands of instructions', () => {
      const mb: TemplateContext = { input: { text: `${'ab'.repeat(500_000)}!` }, outputs: {} };
      assert.equal(ev("workflow.input.text.matches('b!$')", mb), true);
      assert.equal(failure("workflow.input.text.matches('(ab|ba|aa|bb){300}z')", mb).reason, COST_EXCEEDED);
      assert.equal(ev("workflow.input.text.substring(0, 100000).matches('(ab|ba|aa|bb){300}z')", mb), false);
    });

    it('values doubled by cel.bind, and a result that holds one list many times over', () => {
      const doubled = (op: (v: string) => string, levels: number, last: string) => {
        let text = last;
        for (let i = levels; i > 0; i--) text = `cel.bind(v${i}, ${op(`v${i - 1}`)}, ${text})`;
        return text.replace(/v0/g, 'steps.big.outputs.items');
      };
      tooCostly(doubled((v) => `${v} + ${v}`, 12, 'size(v12)'));
      tooCostly(doubled((v) => `[${v}, ${v}]`, 30, 'v30').replace('steps.big.outputs.items', '1'));
      // 4,096 copies of 100 KB: 400 MB of JSON for the history.
      tooCostly(doubled((v) => `[${v}, ${v}]`, 12, 'v12').replace('steps.big.outputs.items', 'steps.big.outputs.text'));
    });

    it('the bound holds even where CEL goes on past an error (|| true would hide it)', () => {
      tooCostly("steps.big.outputs.items.exists(a, steps.big.outputs.items.exists(b, a + b == '!!')) || true");
    });

    it('ordinary expressions over the same 100 KB stay well within it', () => {
      assert.equal(ev("size(steps.big.outputs.text) == 100000 && steps.big.outputs.text.contains('!')", ctx), true);
      assert.equal(ev("steps.big.outputs.items.filter(c, c == '!').size()", ctx), 1);
      assert.equal(ev("steps.big.outputs.text.split('').map(c, c.upperAscii()).join('').endsWith('A!')", ctx), true);
      assert.equal(ev("steps.big.outputs.text.matches('a!$')", ctx), true);
      assert.equal(ev('steps.big.outputs.items.size() + size(steps.big.outputs.items)', ctx), 200_000);
      const lists: TemplateContext = { input: { l: Array.from({ length: 500 }, (_, i) => i) }, outputs: {} };
      assert.equal(ev('workflow.input.l.all(a, workflow.input.l.exists(b, a == b))', lists), true, '250,000 pairs');
    });
  });

  describe('lint', () => {
    const HEAD = 'metadata: {id: t, name: T, version: "1"}\nsteps:\n';
    const lint = (body: string): LintProblem[] => {
      const r = parseDefinition(HEAD + body, 'wf.yaml');
      return r.ok ? [] : r.problems;
    };
    const lineOf = (body: string, needle: string) => (HEAD + body).split('\n').findIndex((l) => l.includes(needle)) + 1;

    it('accepts valid expressions in inputs (any depth), conditions and switch values', () => {
      const body = `
  - id: plan
    skill: s
  - id: gate
    step_type: conditional
    condition: "\${{ has(steps.plan) && size(steps.plan.outputs.items) > 0 }}"
    branches:
      if_true:
        - id: use
          skill: s
          inputs:
            names: "\${{ steps.plan.outputs.items.filter(i, i.enabled).map(i, i.name) }}"
            deep: [{ x: "\${{ workflow.input.n + 1 }}" }]
  - id: route
    step_type: switch
    condition: "\${{ workflow.input.priority in ['high', 'urgent'] ? 'fast' : 'normal' }}"
    branches:
      fast: [{ id: f, skill: s, inputs: { ran: "\${{ has(steps.use) }}" } }]
`;
      assert.deepEqual(lint(body).map(formatProblem), []);
    });

    const problems: [string, string, RegExp][] = [
      [
        'syntax',
        '"${{ steps.a.outputs.x + }}"',
        /step "b": invalid expression "\$\{\{ steps\.a\.outputs\.x \+ \}\}": syntax error: Unexpected token: EOF \(at column \d+ of the expression\)/,
      ],
      ['type: size(1)', '"${{ size(1) }}"', /invalid expression "\$\{\{ size\(1\) \}\}": found no matching overload for 'size\(int\)'/],
      ['type: "a" > 1', `'\${{ "a" > 1 }}'`, /invalid expression "\$\{\{ "a" > 1 \}\}": no such overload: string > int/],
      ['unknown variable', '"${{ inputs.x }}"', /Unknown variable: inputs/],
      ['workflow.<not input>', '"${{ workflow.name }}"', /only "workflow\.input" is available under "workflow"/],
      ['steps.<id>.<not outputs>', '"${{ steps.a.result }}"', /step results are read under "outputs"/],
      ['unknown step', '"${{ steps.nope.outputs.x }}"', /expression "\$\{\{ steps\.nope\.outputs\.x \}\}" refers to step "nope", but there is no such step/],
      ['later step', '"${{ has(steps.c) }}"', /refers to step "c", but that step cannot have run before this one/],
      ['own output', '"${{ steps.b.outputs }}"', /refers to step "b", but a step cannot read its own output/],
      ['inside longer text', '"a ${{ 1 + 1 }} b"', /an expression must be the whole value/],
      ['two expressions', '"${{ 1 }}${{ 2 }}"', /an expression must be the whole value/],
      ['empty', '"${{ }}"', /the expression is empty/],
    ];
    for (const [name, value, message] of problems) {
      it(`${name}: a located problem naming the expression`, () => {
        const body = `
  - id: a
    skill: s
  - id: b
    skill: s
    inputs:
      v: ${value}
  - id: c
    skill: s
`;
        const found = lint(body);
        assert.equal(found.length, 1, found.map(formatProblem).join('\n'));
        assert.match(found[0].message, message);
        assert.equal(found[0].line, lineOf(body, 'v: '));
        assert.equal(found[0].col, (HEAD + body).split('\n')[found[0].line! - 1].indexOf(value.slice(0, 1)) + 1);
        assert.equal(found[0].field, 'steps[1].inputs.v');
      });
    }

    it('a condition expression is checked and located too', () => {
      const body = `
  - id: gate
    step_type: conditional
    condition: "\${{ steps.gate.outputs > 1 }}"
    branches: { if_true: [{ id: x, skill: s }] }
`;
      const [p, ...rest] = lint(body);
      assert.deepEqual(rest, []);
      assert.match(
        formatProblem(p),
        /^wf\.yaml:6:16: step "gate": expression "\$\{\{ steps\.gate\.outputs > 1 \}\}" refers to step "gate", but a step cannot read its own output$/,
      );
    });

    it('a branch step can be tested with has() after its conditional, as templates can read it', () => {
      const body = `
  - id: gate
    step_type: conditional
    condition: "\${{ workflow.input.go }}"
    branches: { if_true: [{ id: maybe, skill: s }] }
  - id: after
    skill: s
    inputs: { ran: "\${{ has(steps.maybe) ? steps.maybe.outputs : 'skipped' }}" }
`;
      assert.deepEqual(lint(body).map(formatProblem), []);
    });

    it('warns when a switch on a bool expression has neither a "True" nor a "False" branch', () => {
      const advise = (branches: string) => {
        const parsed = parseDefinition(
          `${HEAD}  - id: sw\n    step_type: switch\n    condition: "\${{ workflow.input.n > 1 }}"\n    branches: ${branches}\n`,
          'wf.yaml',
        );
        assert.ok(parsed.ok);
        return adviseDefinition(parsed.definition).map((p) => p.message);
      };
      assert.deepEqual(advise('{ big: [{ id: b, skill: s }], default: [{ id: d, skill: s }] }'), [
        'step "sw": the condition is a bool, which selects branch "True" or "False" (as Pallet writes a bool), and this switch has neither: use a conditional step, or an expression giving a branch name (`c ? \'a\' : \'b\'`)',
      ]);
      assert.deepEqual(advise('{ "True": [{ id: b, skill: s }] }'), []);
    });

    it('checkExpression reports the result type where it is known', () => {
      assert.deepEqual(checkExpression('1 < 2'), { ok: true, refs: [], type: 'bool', loop: false });
      assert.equal((checkExpression('item.size > index') as { loop: boolean }).loop, true, 'reads the for_each variables');
      const r = checkExpression('steps.a.outputs.x + steps.a.outputs.y');
      assert.ok(r.ok);
      assert.deepEqual(r.refs, [{ stepId: 'a' }]);
    });
  });

  describe('the walker', () => {
    const DEF = `
  - id: review
    skill: review
  - id: gate
    step_type: conditional
    condition: "\${{ steps.review.outputs.score >= 0.8 && size(steps.review.outputs.issues) == 0 }}"
    branches:
      if_true: [{ id: ship, skill: s, inputs: { reply: shipped } }]
      if_false: [{ id: fix, skill: s, inputs: { reply: fix } }]
  - id: route
    step_type: switch
    condition: "\${{ workflow.input.priority in ['high', 'urgent'] ? 'fast' : 'normal' }}"
    branches:
      fast: [{ id: quick, skill: s, inputs: { names: "\${{ workflow.input.items.filter(i, i.enabled).map(i, i.name) }}", count: "\${{ size(workflow.input.items) + 1 }}" } }]
      normal: [{ id: slow, skill: s }]
`;
    const input = (priority: string) => ({
      priority,
      items: [
        { name: 'a', enabled: true },
        { name: 'b', enabled: false },
      ],
    });

    it('takes branches by expressions and passes computed inputs', async () => {
      const { result, log, walker } = await run(steps(DEF), { review: () => ({ score: 0.9, issues: [] }), s: echo }, input('urgent'));
      assert.deepEqual(Object.keys(result.step_outputs), ['review', 'ship', 'quick']);
      assert.deepEqual(log.calls.find((c) => c.step === 'quick')?.inputs, { names: ['a'], count: 3 });
      assert.equal(walker.state.containers.gate.value, true);
      assert.equal(walker.state.containers.route.value, 'fast');
    });

    it('the other branches, with an integer score (1 is as good as 1.0)', async () => {
      const { result } = await run(steps(DEF), { review: () => ({ score: 1, issues: ['x'] }), s: echo }, input('low'));
      assert.deepEqual(Object.keys(result.step_outputs), ['review', 'fix', 'slow']);
    });

    it('a switch on a bool expression picks "True" or "False", as Pallet writes a bool', async () => {
      const def = steps(`
  - id: sw
    step_type: switch
    condition: "\${{ workflow.input.n > 1 }}"
    branches:
      "True": [{ id: big, skill: s, inputs: { reply: big } }]
      default: [{ id: small, skill: s, inputs: { reply: small } }]
`);
      assert.equal((await run(def, { s: echo }, { n: 2 })).result.final_output, 'big');
      assert.equal((await run(def, { s: echo }, { n: 0 })).result.final_output, 'small');
    });

    it('a failing condition fails its step with the expression and the reason (ExpressionError)', async () => {
      const def = steps(`
  - id: outer
    step_type: conditional
    condition: "true"
    branches:
      if_true:
        - id: gate
          step_type: switch
          condition: "\${{ workflow.input.missing == 1 }}"
          branches: { default: [{ id: x, skill: s }] }
`);
      await assert.rejects(run(def, { s: echo }, {}), (err: unknown) => {
        assert.ok(err instanceof ExpressionError);
        assert.equal(err.type, FailureTypes.expressionError);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.message, 'Step "gate" (in "outer") failed (switch): condition ${{ workflow.input.missing == 1 }}: No such key: missing');
        assert.deepEqual(err.details, [{ stepId: 'gate', within: ['outer'], reason: 'condition ${{ workflow.input.missing == 1 }}: No such key: missing' }]);
        return true;
      });
    });

    it('a failing computed input fails the run with the expression and the reason, before the agent is called', async () => {
      const def = steps(`
  - id: a
    skill: s
    inputs: { v: "\${{ workflow.input.n / 0 }}" }
`);
      const calls: string[] = [];
      await assert.rejects(run(def, { s: (i) => calls.push(JSON.stringify(i)) }, { n: 1 }), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /^Step "a" failed \(skill s\): input \$\{\{ workflow\.input\.n \/ 0 \}\}: .*not a JSON number/);
        return true;
      });
      assert.deepEqual(calls, []);
    });
  });

  describe('pallet-workflows/review-gate.yaml', () => {
    const definition = () => def(readFileSync(path.join(PALLET_WORKFLOWS, 'review-gate.yaml'), 'utf8'));
    const plan = { title: 'T', steps: [{ name: 'a', description: 'A', time: '1 hour' }] };
    const skills = (review: unknown) => ({
      create_plan: () => plan,
      generate_code: echo,
      review_code: () => review,
      security_scan: () => 'sec',
      performance_check: () => 'perf',
    });

    it('blocking issues: builds again with a fix step per blocking issue (a computed input)', async () => {
      const review = {
        quality_score: 9,
        issues: [
          { type: 'syntax', severity: 'error', message: 'bad' },
          { type: 'todo', severity: 'low', message: 'later' },
        ],
      };
      const { result, log } = await run(definition(), skills(review), { requirements: 'x' });
      assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'review', 'rebuild']);
      assert.deepEqual(log.calls.find((c) => c.step === 'review')?.inputs, { code: null, language: 'python' });
      assert.deepEqual(log.calls.find((c) => c.step === 'rebuild')?.inputs, {
        plan: { title: 'T', steps: [...plan.steps, { name: 'Fix syntax', description: 'bad' }] },
      });
    });

    it('a good review: urgent runs the quick scan, anything else both checks', async () => {
      const review = { quality_score: 8, issues: [{ type: 'todo', severity: 'low', message: 'later' }] };
      assert.deepEqual(Object.keys((await run(definition(), skills(review), { requirements: 'x', priority: 'urgent' })).result.step_outputs), [
        'plan',
        'build',
        'review',
        'quick_scan',
      ]);
      assert.deepEqual(Object.keys((await run(definition(), skills(review), { requirements: 'x' })).result.step_outputs), [
        'plan',
        'build',
        'review',
        'security',
        'performance',
      ]);
    });
  });
});
