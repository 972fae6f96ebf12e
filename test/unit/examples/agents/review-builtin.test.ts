// review_code without python3 (PALLET_PYTHON=none): the lexer's checks stand in for ast.parse.
import assert from 'node:assert/strict';
import { startExampleAgents, type ExampleAgents } from '../../../../examples/agents/main';
import { lexPython } from '../../../../examples/agents/skills/python';
import { call } from './rpc';

interface Review {
  quality_score: number;
  issues: { type: string; severity: string; line: number | null; message: string }[];
  approved: boolean;
  syntax_check: string;
}

describe('review_code with the built-in checks', () => {
  let running: ExampleAgents;
  let url: string;
  before(async () => {
    running = await startExampleAgents({ basePort: 0, only: ['test', 'plan', 'build'], env: { PALLET_PYTHON: 'none' } });
    url = running.agents.find((a) => a.name === 'test-agent')!.url;
  });
  after(() => running.close());

  const review = (code: string) => call<Review>(url, 'review_code', { code, language: 'python' });
  const errors = (r: Review) => r.issues.filter((i) => i.severity === 'error').map((i) => `${i.line}: ${i.message}`);

  it('says which check ran', async () => {
    const r = await review('x = 1\n');
    assert.match(r.syntax_check, /^built-in checks/);
    assert.equal(r.approved, true);
  });

  it('finds unbalanced and mismatched brackets', async () => {
    assert.deepEqual(errors(await review('x = (1, 2]\ny = 3)\nz = [\n')), [
      "1: '(' opened on line 1 is closed by ']' on line 1",
      "2: unmatched ')' on line 2",
      "3: '[' opened on line 3 is never closed",
    ]);
  });

  it('finds unterminated strings but ignores brackets and quotes inside strings and comments', async () => {
    assert.deepEqual(errors(await review('a = "(["  # ) \' "\nb = \'it\\\'s\'\nc = """multi\n(line\n"""\nd = "open\n')), [
      '6: unterminated string literal on line 6',
    ]);
    assert.deepEqual(errors(await review('s = """never closed\n\n')), ['1: unterminated triple-quoted string starting on line 1']);
  });

  it('finds indentation errors', async () => {
    assert.deepEqual(errors(await review('def f(x):\nreturn 1\n')), ['2: expected an indented block after line 1']);
    assert.deepEqual(errors(await review('x = 1\n    y = 2\n')), ['2: unexpected indent on line 2']);
    assert.deepEqual(errors(await review('if x:\n        y = 1\n    z = 2\n')), ['3: unindent on line 3 does not match any outer indentation level']);
    assert.deepEqual(errors(await review('x = [\n  1,\n    2]\nfor i in x:\n')), ['4: expected an indented block after line 4']);
  });

  it('flags mixed tabs and spaces', async () => {
    const r = await review('def f(x):\n    """Doc."""\n    if x:\n\treturn 1\n    return 2\n');
    const mixed = r.issues.find((i) => i.type === 'indentation' && i.severity === 'medium');
    assert.match(mixed!.message, /tabs on line\(s\) 4, spaces on line\(s\) 2, 3, 5/);
  });

  it('approves the generated code without python3 too', async () => {
    const plan = await call(running.agents.find((a) => a.name === 'plan-agent')!.url, 'create_plan', {
      requirements: 'Parse a log file, count errors per hour and export a CSV report',
    });
    const code = await call<{ code: string }>(running.agents.find((a) => a.name === 'build-agent')!.url, 'generate_code', { plan });
    const r = await review(code.code);
    assert.deepEqual(r.issues, []);
    assert.equal(r.approved, true);
  });
});

describe('the Python lexer', () => {
  it('blanks strings and comments, keeps line numbers, and nests blocks by indentation', () => {
    const src = lexPython('x = "eval(1)"  # eval(2)\ndef f(a,\n      b):\n    for i in a:\n        g(f"{i}")\n');
    assert.equal(src.lines[0].code.trim(), 'x = "       "');
    assert.equal(src.lines[0].comment, ' eval(2)');
    assert.deepEqual(
      src.logical.map((l) => [l.start, l.end, l.code, l.parents.map((p) => p.start)]),
      [
        [1, 1, 'x = "       "', []],
        [2, 3, 'def f(a, b):', []],
        [4, 4, 'for i in a:', [2]],
        [5, 5, 'g(f"   ")', [2, 4]],
      ],
    );
    assert.deepEqual(src.problems, []);
  });

  it('handles string prefixes, escapes and backslash continuations', () => {
    const src = lexPython("a = rb'\\\\' + br\"x\" + u'\\''\nb = 1 + \\\n    2\n");
    assert.deepEqual(src.problems, []);
    assert.deepEqual(
      src.logical.map((l) => [l.start, l.end]),
      [
        [1, 1],
        [2, 3],
      ],
    );
  });
});
