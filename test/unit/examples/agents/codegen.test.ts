// code-generation's agents over HTTP: create_plan → generate_code → review_code.
import assert from 'node:assert/strict';
import { startExampleAgents, type ExampleAgents } from '../../../../examples/agents/main';
import type { AgentCard } from '../../../../examples/agents/types';
import { assertMatchesCard, call, callFails, getCard, pythonParses } from './rpc';

interface Plan {
  title: string;
  steps: { name: string; description: string; time: string }[];
  dependencies: string[];
  estimated_total_time: string;
}
interface Code {
  code: string;
  explanation: string;
  language: string;
  functions: string[];
}
interface Review {
  quality_score: number;
  issues: { type: string; severity: string; line: number | null; message: string }[];
  suggestions: string[];
  approved: boolean;
  summary: string;
  syntax_check: string;
}

describe('example agents: plan, build, test', () => {
  let running: ExampleAgents;
  const url: Record<string, string> = {};
  const cards: Record<string, AgentCard> = {};
  before(async () => {
    running = await startExampleAgents({ basePort: 0, only: ['plan', 'build', 'test'], env: {} });
    for (const a of running.agents) {
      url[a.name] = a.url;
      cards[a.name] = await getCard(a.url);
    }
  });
  after(() => running.close());

  const plan = (requirements: string) => call<Plan>(url['plan-agent'], 'create_plan', { requirements });

  describe('create_plan', () => {
    it('makes one step per clause of the requirements, plus setup and tests', async () => {
      const p = await plan('Build a CLI that parses CSV files and prints a summary of sales per region.');
      assertMatchesCard(cards['plan-agent'], 'create_plan', p);
      assert.equal(p.title, 'Implementation Plan: Build a CLI that parses CSV files');
      assert.deepEqual(
        p.steps.map((s) => s.name),
        ['Set up project structure', 'Build CLI that parses CSV files', 'Print summary of sales per region', 'Write tests'],
      );
      for (const s of p.steps) {
        assert.ok(s.description.length > 0);
        assert.match(s.time, /^\d+(\.\d)? (minutes|hours?)$/);
      }
      assert.deepEqual(p.dependencies, ['pandas', 'click']);
      assert.equal(p.estimated_total_time, '2.5 hours');
    });

    it('picks dependencies and longer estimates from keywords', async () => {
      const p = await plan('Create a REST API for todo items, store them in a PostgreSQL database, and write unit tests');
      assert.deepEqual(p.dependencies, ['fastapi', 'uvicorn', 'sqlalchemy', 'pytest']);
      const api = p.steps.find((s) => /REST API/.test(s.name))!;
      assert.equal(api.time, '2 hours');
      // The requirements ask for tests themselves: no extra "Write tests" step.
      assert.equal(p.steps.filter((s) => /test/i.test(s.name)).length, 1);
      assert.equal(p.steps.at(-1)!.name, 'Write unit tests');
    });

    it('is deterministic', async () => {
      const text = 'Fetch web pages, extract the links and plot statistics';
      assert.deepEqual(await plan(text), await plan(text));
    });

    it('fails on empty requirements and on a missing field', async () => {
      assert.match(await callFails(url['plan-agent'], 'create_plan', { requirements: '   ' }), /requirements is empty/);
      assert.match(await callFails(url['plan-agent'], 'create_plan', {}), /missing required field "requirements"/);
    });
  });

  describe('generate_code', () => {
    it('writes valid Python with one documented function per plan step, a main() and a __main__ guard', async () => {
      const p = await plan('Build a CLI that parses CSV files and prints a summary of sales per region.');
      const c = await call<Code>(url['build-agent'], 'generate_code', { plan: p });
      assertMatchesCard(cards['build-agent'], 'generate_code', c);
      assert.equal(c.language, 'python');
      assert.deepEqual(c.functions, [
        'set_up_project_structure',
        'build_cli_that_parses_csv_files',
        'print_summary_of_sales_per_region',
        'write_tests',
        'main',
      ]);
      for (const [i, step] of p.steps.entries()) {
        const fn = c.functions[i];
        assert.match(c.code, new RegExp(`\\ndef ${fn}\\(state: State\\) -> State:\\n    """${step.name}\\.`), fn);
        assert.match(c.code, new RegExp(`\\n    state = ${fn}\\(state\\)\\n`), `main() calls ${fn}`);
      }
      assert.ok(c.code.endsWith('\nif __name__ == "__main__":\n    raise SystemExit(main())\n'));
      assert.match(c.explanation, /4 functions, one per plan step/);
      const parses = await pythonParses(c.code);
      if (parses !== undefined) assert.equal(parses, true, c.code);
    });

    it('makes safe identifiers and docstrings from awkward step names', async () => {
      const p = {
        title: 'Tricky """quotes""" \\ and backslashes',
        steps: [
          '2nd pass',
          { name: 'class', description: 'Ends with a quote"' },
          { title: 'Café résumé', time: 1.5 },
          { name: '2nd pass' },
          { name: '!!!' },
          42,
        ],
      };
      const c = await call<Code>(url['build-agent'], 'generate_code', { plan: p });
      assert.deepEqual(c.functions, ['step_2nd_pass', 'class_step', 'cafe_resume', 'step_2nd_pass_2', 'step_5', 'main']);
      assert.match(c.code, /Estimated time: 1\.5 hours\./);
      const parses = await pythonParses(c.code);
      if (parses !== undefined) assert.equal(parses, true, c.code);
    });

    it('fails on a plan without steps', async () => {
      assert.match(await callFails(url['build-agent'], 'generate_code', { plan: { title: 'x' } }), /plan has no steps/);
      assert.match(await callFails(url['build-agent'], 'generate_code', { plan: 'do it' }), /field "plan" must be object/);
    });
  });

  describe('review_code', () => {
    it('approves the generated code with a perfect score (the whole pipeline, as code-generation runs it)', async () => {
      const p = await plan('Create a function that takes a list, sorts it, and returns the max. Handle empty lists.');
      const c = await call<Code>(url['build-agent'], 'generate_code', { plan: p });
      const r = await call<Review>(url['test-agent'], 'review_code', { code: c.code, language: c.language });
      assertMatchesCard(cards['test-agent'], 'review_code', r);
      assert.deepEqual(r.issues, []);
      assert.equal(r.quality_score, 10);
      assert.equal(r.approved, true);
      assert.match(r.summary, /no issues; score 10\/10; approved/);
    });

    const sloppy = [
      'import os',
      'def load(path, cache={}):',
      '    try:',
      '        data = open(path).read()',
      '        print("loaded", path)  # TODO: remove debugging',
      '    except:',
      '        data = None',
      '    if data == None:',
      '        return ""',
      '    return data',
      `x = "${'a'.repeat(130)}"`,
      'load("config.txt")',
      '',
    ].join('\n');

    it('finds the problems in sloppy code, with their lines, and does not approve it', async () => {
      const r = await call<Review>(url['test-agent'], 'review_code', { code: sloppy });
      const found = r.issues.map((i) => `${i.type}@${i.line}`);
      assert.deepEqual(found, ['docstring@2', 'mutable-default@2', 'print@5', 'todo@5', 'bare-except@6', 'none-comparison@8', 'long-line@11', 'main-guard@12']);
      assert.ok(r.quality_score < 7, String(r.quality_score));
      assert.equal(r.approved, false);
      assert.ok(r.suggestions.some((s) => /logging module/.test(s)));
      assert.ok(r.suggestions.some((s) => /__main__/.test(s)));
    });

    it('reports syntax errors with python3 ast.parse when available, else with the built-in checks', async () => {
      const broken = 'def f(x):\n    """Doc."""\n    return [x,\n\nif __name__ == "__main__":\n    f(1)\n';
      const r = await call<Review>(url['test-agent'], 'review_code', { code: broken, language: 'python' });
      assert.equal(r.approved, false);
      const syntax = r.issues.find((i) => i.severity === 'error')!;
      if (r.syntax_check.includes('ast.parse')) {
        assert.equal(syntax.type, 'syntax');
        assert.match(syntax.message, /SyntaxError/);
      } else {
        assert.match(r.syntax_check, /built-in/);
        assert.equal(syntax.type, 'structure');
      }
    });

    it('reviews non-Python code with the language-neutral checks only', async () => {
      const r = await call<Review>(url['test-agent'], 'review_code', { code: 'function f() {\n  // TODO: implement\n}\n', language: 'javascript' });
      assert.deepEqual(
        r.issues.map((i) => i.type),
        ['todo'],
      );
      assert.match(r.syntax_check, /skipped for javascript/);
    });

    it('treats a null language (a missing workflow input) as Python, and empty code as an error', async () => {
      const r = await call<Review>(url['test-agent'], 'review_code', { code: 'x = 1\n', language: null });
      assert.equal(r.approved, true);
      const empty = await call<Review>(url['test-agent'], 'review_code', { code: '' });
      assert.equal(empty.approved, false);
      assert.equal(empty.quality_score, 5);
      assert.equal(empty.issues[0].type, 'empty');
    });
  });
});
