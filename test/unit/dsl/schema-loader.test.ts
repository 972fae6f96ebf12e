// Loading workflow files: Pallet's own files load unchanged with Pallet's defaults filled in,
// and broken files are reported with file, line and column.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DefinitionError, formatProblem, loadDefinitionFile, parseDefinition, sha256Digest, type LintProblem } from '../../../src/dsl/loader';
import type { WorkflowDefinition } from '../../../src/dsl/types';
import { PALLET_ORIGINALS, PALLET_TEST_WORKFLOWS, PALLET_WORKFLOWS } from '../../helpers/pallet';

// Our copies of Pallet's files; the originals (when at hand) are checked byte for byte below.
const OUR_COPIES = PALLET_WORKFLOWS;
const PALLET_TESTS = PALLET_TEST_WORKFLOWS;

const WORKFLOW_FILES = ['code-generation.yaml', 'parallel-analysis.yaml', 'smart-router.yaml'];

function load(file: string): { definition: WorkflowDefinition; digest: string } {
  const r = parseDefinition(readFileSync(file, 'utf8'), file);
  if (!r.ok) assert.fail(`${file} should load, got:\n${r.problems.map(formatProblem).join('\n')}`);
  return r;
}

function problemsOf(text: string, file = 'wf.yaml'): LintProblem[] {
  const r = parseDefinition(text, file);
  if (r.ok) assert.fail(`expected problems, but the file loaded: ${JSON.stringify(r.definition)}`);
  return r.problems;
}

function defOf(text: string): WorkflowDefinition {
  const r = parseDefinition(text, 'wf.yaml');
  if (!r.ok) assert.fail(`should load, got:\n${r.problems.map(formatProblem).join('\n')}`);
  return r.definition;
}

/** Line and column (1-based) of the first occurrence of `needle` in `text`. */
function posOf(text: string, needle: string): { line: number; col: number } {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `"${needle}" not in text`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

/** Every field of `raw` (as YAML parsed it) is present with the same value in `loaded`. */
function assertKeepsEverything(raw: unknown, loaded: unknown, where: string): void {
  if (Array.isArray(raw)) {
    assert.ok(Array.isArray(loaded), `${where} should be a list`);
    assert.equal(loaded.length, raw.length, `${where}: length`);
    raw.forEach((v, i) => assertKeepsEverything(v, loaded[i], `${where}[${i}]`));
  } else if (typeof raw === 'object' && raw !== null) {
    assert.ok(typeof loaded === 'object' && loaded !== null, `${where} should be a map`);
    for (const [k, v] of Object.entries(raw)) {
      assertKeepsEverything(v, (loaded as Record<string, unknown>)[k], `${where}.${k}`);
    }
  } else {
    assert.deepEqual(loaded, raw, `${where}`);
  }
}

const MINIMAL_HEAD = 'metadata:\n  id: t\n  name: T\n  version: "1"\n';

describe('dsl/loader + schema', () => {
  describe("Pallet's files", () => {
    it("our copies of Pallet's files are byte-identical to Pallet's (when its files are at hand)", function () {
      if (!PALLET_ORIGINALS) return this.skip();
      const pairs: [string, string][] = [
        [OUR_COPIES, path.join(PALLET_ORIGINALS, 'workflows')],
        [PALLET_TESTS, path.join(PALLET_ORIGINALS, 'test-workflows')],
      ];
      for (const [ours, theirs] of pairs) {
        // Every file of Pallet's is here unchanged (ours may add examples of our own).
        const missing = readdirSync(theirs).filter((name) => !readdirSync(ours).includes(name));
        assert.deepEqual(missing, [], `Pallet's files missing from ${ours}`);
        for (const name of readdirSync(theirs)) {
          assert.ok(readFileSync(path.join(ours, name)).equals(readFileSync(path.join(theirs, name))), `${name} differs from Pallet's`);
        }
      }
    });

    for (const name of WORKFLOW_FILES) {
      it(`${name} loads without problems and keeps every field of the file`, () => {
        const file = path.join(PALLET_WORKFLOWS, name);
        const { definition } = load(file);
        const raw = parseYaml(readFileSync(file, 'utf8')) as { metadata: { version: unknown } };
        raw.metadata.version = String(raw.metadata.version);
        assertKeepsEverything(raw, definition, name);
      });
    }

    it('valid_simple.yaml loads with the defaults filled in', () => {
      const { definition } = load(path.join(PALLET_TESTS, 'valid_simple.yaml'));
      assert.deepEqual(definition, {
        metadata: { id: 'test-simple', name: 'Simple Test Workflow', version: '1.0.0', description: '', tags: [] },
        steps: [{ id: 'step1', skill: 'test_skill', inputs: { data: '{{ workflow.input.test }}' }, timeout: 300, step_type: 'sequential' }],
      });
    });

    it('code-generation.yaml loads exactly as written', () => {
      const { definition } = load(path.join(PALLET_WORKFLOWS, 'code-generation.yaml'));
      assert.deepEqual(definition, {
        metadata: {
          id: 'code-generation-v1',
          name: 'Code Generation Pipeline',
          version: '1.0.0',
          description: 'Plan → Build → Test pipeline for code generation',
          tags: ['code-generation', 'sequential', 'default'],
        },
        steps: [
          {
            id: 'plan',
            skill: 'create_plan',
            inputs: { requirements: '{{ workflow.input.requirements }}' },
            outputs: 'result',
            timeout: 300,
            step_type: 'sequential',
          },
          {
            id: 'build',
            skill: 'generate_code',
            inputs: { plan: '{{ steps.plan.outputs.result }}' },
            outputs: 'result',
            timeout: 600,
            step_type: 'sequential',
          },
          {
            id: 'test',
            skill: 'review_code',
            inputs: { code: '{{ steps.build.outputs.result.code }}', language: '{{ steps.build.outputs.result.language }}' },
            outputs: 'result',
            timeout: 300,
            step_type: 'sequential',
          },
        ],
      });
    });

    it('parallel-analysis.yaml: the parallel container has no skill and its sub-steps get the defaults', () => {
      const { definition } = load(path.join(PALLET_WORKFLOWS, 'parallel-analysis.yaml'));
      const [par, aggregate] = definition.steps;
      assert.equal(par.step_type, 'parallel');
      assert.equal(par.skill, undefined);
      assert.deepEqual(par.inputs, {});
      assert.equal(par.timeout, 300);
      assert.deepEqual(Object.keys(par.branches ?? {}), ['steps']);
      const subs = par.branches?.steps ?? [];
      assert.deepEqual(
        subs.map((s) => s.id),
        ['analyze_quality', 'analyze_security', 'analyze_performance'],
      );
      assert.deepEqual(
        subs.map((s) => s.step_type),
        ['sequential', 'sequential', 'sequential'],
      );
      assert.deepEqual(
        subs.map((s) => s.outputs),
        ['quality_result', 'security_result', 'performance_result'],
      );
      assert.equal(aggregate.timeout, 60);
    });

    it('smart-router.yaml: switch branches keep their names and order, sub-steps get the defaults', () => {
      const { definition } = load(path.join(PALLET_WORKFLOWS, 'smart-router.yaml'));
      const route = definition.steps[1];
      assert.equal(route.step_type, 'switch');
      assert.equal(route.condition, '{{ steps.analyze.outputs.request_type }}');
      assert.deepEqual(Object.keys(route.branches ?? {}), ['code_generation', 'data_analysis', 'default']);
      assert.deepEqual(route.branches?.default, [
        { id: 'fallback', skill: 'create_plan', inputs: { requirements: '{{ workflow.input.requirements }}' }, timeout: 300, step_type: 'sequential' },
      ]);
      assert.deepEqual(route.branches?.code_generation[0].inputs, { workflow_id: 'code-generation-v1', input: '{{ workflow.input }}' });
    });
  });

  describe('defaults and conversions', () => {
    it('fills timeout 300, step_type sequential, inputs {}, description "" and tags []', () => {
      const def = defOf(`${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n`);
      assert.deepEqual(def.metadata, { id: 't', name: 'T', version: '1', description: '', tags: [] });
      assert.deepEqual(def.steps[0], { id: 's', skill: 'k', inputs: {}, timeout: 300, step_type: 'sequential' });
      assert.equal('error_handling' in def, false);
    });

    it('keeps values that are given instead of the defaults', () => {
      const def = defOf(
        'metadata:\n  id: t\n  name: T\n  version: 2.0.0\n  description: hello\n  tags: [x]\n' +
          'steps:\n  - id: s\n    skill: k\n    timeout: 12.5\n    inputs: {a: 1}\nerror_handling:\n  retry: 3\n',
      );
      assert.equal(def.metadata.description, 'hello');
      assert.deepEqual(def.metadata.tags, ['x']);
      assert.equal(def.steps[0].timeout, 12.5);
      assert.deepEqual(def.steps[0].inputs, { a: 1 });
      // Pallet never reads error_handling; ours reads `retry: N` as N attempts.
      assert.deepEqual(def.error_handling, { retry: { max_attempts: 3 } });
    });

    it('a version written as a YAML number becomes a string', () => {
      assert.equal(defOf(`metadata: {id: t, name: T, version: 2}\nsteps: [{id: s, skill: k}]\n`).metadata.version, '2');
      assert.equal(defOf(`metadata: {id: t, name: T, version: 1.5}\nsteps: [{id: s, skill: k}]\n`).metadata.version, '1.5');
      assert.equal(defOf(`metadata: {id: t, name: T, version: 1.0.0}\nsteps: [{id: s, skill: k}]\n`).metadata.version, '1.0.0');
    });
    // as "1" and `version: 1.10` as "1.1" (a different version). The source text of the scalar
    // should be kept (e.g. take the node's text from the YAML document instead of String(number)).
    it('a float-looking version keeps its text as written (1.0, 1.10)', () => {
      assert.equal(defOf(`metadata: {id: t, name: T, version: 1.0}\nsteps: [{id: s, skill: k}]\n`).metadata.version, '1.0');
      assert.equal(defOf(`metadata: {id: t, name: T, version: 1.10}\nsteps: [{id: s, skill: k}]\n`).metadata.version, '1.10');
    });
  });

  describe('problems, located', () => {
    it('invalid_syntax.yaml: a YAML syntax error with file, line and column', () => {
      const file = path.join(PALLET_TESTS, 'invalid_syntax.yaml');
      const problems = problemsOf(readFileSync(file, 'utf8'), file);
      assert.equal(problems.length, 1);
      const [p] = problems;
      assert.equal(p.file, file);
      assert.match(p.message, /^YAML syntax error: .*Flow sequence/);
      // The unclosed `[` opens on line 8; the parser notices at the end of the file (line 9,
      // the empty line after the final newline), as PyYAML does.
      assert.deepEqual([p.line, p.col], [9, 1]);
      assert.equal(formatProblem(p), `${file}:9:1: ${p.message}`);
      assert.doesNotMatch(p.message, /\n/, 'only the first line of the parser message');
    });

    it('missing_required.yaml: "metadata.name is required", at the metadata map', () => {
      const file = path.join(PALLET_TESTS, 'missing_required.yaml');
      const problems = problemsOf(readFileSync(file, 'utf8'), file);
      assert.equal(problems.length, 1);
      assert.equal(problems[0].field, 'metadata.name');
      assert.equal(formatProblem(problems[0]), `${file}:2:3: metadata.name is required`);
    });

    it('missing top-level "metadata" or "steps" is reported as required', () => {
      const noMeta = problemsOf('steps:\n  - id: s\n    skill: k\n');
      assert.deepEqual(noMeta.map(formatProblem), ['wf.yaml:1:1: metadata is required']);
      const noSteps = problemsOf(MINIMAL_HEAD);
      assert.deepEqual(noSteps.map(formatProblem), ['wf.yaml:1:1: steps is required']);
    });

    for (const [what, text] of [
      ['a list', '- id: s\n- id: t\n'],
      ['a plain string', 'hello\n'],
      ['empty', ''],
    ] as const) {
      it(`a file that is not a map (${what}) is rejected`, () => {
        const problems = problemsOf(text);
        assert.deepEqual(problems.map(formatProblem), ['wf.yaml:1:1: a workflow file must be a YAML map with "metadata" and "steps"']);
      });
    }

    it('a negative timeout is rejected at the value', () => {
      const text = `${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n    timeout: -5\n`;
      const problems = problemsOf(text);
      assert.equal(problems.length, 1);
      assert.equal(problems[0].field, 'steps[0].timeout');
      assert.match(problems[0].message, /timeout must be a positive number of seconds/);
      const at = posOf(text, '-5');
      assert.deepEqual([problems[0].line, problems[0].col], [at.line, at.col]);
    });

    it('a zero timeout and a timeout given as text are rejected', () => {
      assert.equal(problemsOf(`${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n    timeout: 0\n`)[0].field, 'steps[0].timeout');
      assert.equal(problemsOf(`${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n    timeout: "300"\n`)[0].field, 'steps[0].timeout');
    });

    it('duplicate YAML keys are a syntax error at the second key', () => {
      const text = `${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n    skill: j\n`;
      const problems = problemsOf(text);
      assert.equal(problems.length, 1);
      assert.match(problems[0].message, /^YAML syntax error: Map keys must be unique/);
      const second = posOf(text, 'skill: j');
      assert.deepEqual([problems[0].line, problems[0].col], [second.line, second.col]);
    });

    it('wrong types: inputs as a list is rejected at the list', () => {
      const text = `${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n    inputs:\n      - a\n      - b\n`;
      const problems = problemsOf(text);
      assert.equal(problems.length, 1);
      assert.equal(problems[0].field, 'steps[0].inputs');
      assert.match(problems[0].message, /^steps\[0\]\.inputs: must be a map, not a list/);
      const at = posOf(text, '- a');
      assert.deepEqual([problems[0].line, problems[0].col], [at.line, at.col]);
    });

    it('wrong types: tags as a string, steps as a map, branches not lists of steps', () => {
      assert.equal(problemsOf('metadata: {id: t, name: T, version: 1, tags: x}\nsteps: [{id: s, skill: k}]\n')[0].field, 'metadata.tags');
      assert.equal(problemsOf(`${MINIMAL_HEAD}steps:\n  s: {skill: k}\n`)[0].field, 'steps');
      const fields = problemsOf(`${MINIMAL_HEAD}steps:\n  - id: p\n    step_type: parallel\n    branches:\n      steps: {id: a}\n`).map((p) => p.field);
      assert.deepEqual(fields, ['steps[0].branches.steps']);
    });

    it('several schema problems are all reported', () => {
      const text = 'metadata: {id: t, version: 1}\nsteps:\n  - id: s\n    skill: k\n    timeout: -1\n    inputs: [x]\n';
      const fields = problemsOf(text)
        .map((p) => p.field)
        .sort();
      assert.deepEqual(fields, ['metadata.name', 'steps[0].inputs', 'steps[0].timeout']);
    });

    it('a step id that templates could not address is rejected (dot, leading digit, number)', () => {
      for (const id of ['a.b', '1st', 'has space']) {
        const problems = problemsOf(`${MINIMAL_HEAD}steps:\n  - id: "${id}"\n    skill: k\n`);
        assert.equal(problems.length, 1, id);
        assert.equal(problems[0].field, 'steps[0].id');
        assert.match(problems[0].message, /step id may only contain/);
      }
      assert.match(problemsOf(`${MINIMAL_HEAD}steps:\n  - id: 12\n    skill: k\n`)[0].message, /step id must be a string/);
    });
    // "steps[0].id is required": the custom zod error on the id schema replaces the
    // "received undefined" message that schemaProblems() uses to detect a missing field.
    it('a step without an id: "steps[0].id is required"', () => {
      const problems = problemsOf(`${MINIMAL_HEAD}steps:\n  - skill: k\n`);
      assert.deepEqual(problems.map(formatProblem), ['wf.yaml:6:5: steps[0].id is required']);
    });

    it('formatProblem leaves the position out when it is unknown', () => {
      assert.equal(formatProblem({ file: 'x.yaml', message: 'boom' }), 'x.yaml: boom');
      assert.equal(formatProblem({ file: 'x.yaml', line: 3, col: 7, message: 'boom' }), 'x.yaml:3:7: boom');
    });
  });

  describe('loadDefinitionFile and the digest', () => {
    it('loads a file and returns its text and the sha256 of its bytes', async () => {
      const file = path.join(PALLET_WORKFLOWS, 'code-generation.yaml');
      const bytes = readFileSync(file);
      const loaded = await loadDefinitionFile(file);
      assert.equal(loaded.text, bytes.toString('utf8'));
      assert.equal(loaded.digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      assert.match(loaded.digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(loaded.definition.metadata.id, 'code-generation-v1');
    });

    it('the digest is the sha256 of the text and changes with any byte of it', () => {
      assert.equal(sha256Digest('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      const text = `${MINIMAL_HEAD}steps:\n  - id: s\n    skill: k\n`;
      const a = parseDefinition(text, 'a.yaml');
      const b = parseDefinition(`${text}# a comment\n`, 'a.yaml');
      assert.ok(a.ok && b.ok);
      assert.equal(a.digest, sha256Digest(text));
      assert.notEqual(a.digest, b.digest);
      assert.deepEqual(a.definition, b.definition);
    });

    it('a missing file gives a DefinitionError naming the file', async () => {
      const file = '/nonexistent/dir/no-such-workflow.yaml';
      await assert.rejects(loadDefinitionFile(file), (err: unknown) => {
        assert.ok(err instanceof DefinitionError);
        assert.equal(err.name, 'DefinitionError');
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].file, file);
        assert.match(err.problems[0].message, /cannot read file/);
        assert.ok(err.message.startsWith(`${file}: cannot read file`), err.message);
        return true;
      });
    });

    it('an invalid file gives a DefinitionError listing its problems as FILE:LINE:COL lines', async () => {
      const file = path.join(PALLET_TESTS, 'missing_required.yaml');
      await assert.rejects(loadDefinitionFile(file), (err: unknown) => {
        assert.ok(err instanceof DefinitionError);
        assert.equal(err.message, `${file}:2:3: metadata.name is required`);
        return true;
      });
    });
  });
});
