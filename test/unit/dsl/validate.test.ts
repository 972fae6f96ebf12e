// Static checks of a whole definition: every rule of validate.ts, all problems at once, and
// each problem located at the right line and column of the YAML file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatProblem, parseDefinition, type LintProblem } from '../../../src/dsl/loader';
import { definitionSchema } from '../../../src/dsl/schema';
import { STEP_TYPES } from '../../../src/dsl/types';
import { formatPath, validateDefinition } from '../../../src/dsl/validate';
import { PALLET_WORKFLOWS } from '../../helpers/pallet';

const HEAD = 'metadata: {id: t, name: T, version: "1"}\nsteps:\n';

/** Problems the loader reports for a file made of HEAD and the given steps (YAML). */
function lint(steps: string): LintProblem[] {
  const r = parseDefinition(HEAD + steps, 'wf.yaml');
  return r.ok ? [] : r.problems;
}

function messages(steps: string): string[] {
  return lint(steps).map((p) => p.message);
}

function assertClean(steps: string): void {
  const problems = lint(steps);
  assert.deepEqual(problems.map(formatProblem), [], 'expected no problems');
}

/** The single problem of a file, checking there is exactly one. */
function single(steps: string): LintProblem {
  const problems = lint(steps);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.map(formatProblem).join('\n')}`);
  return problems[0];
}

/** 1-based line and column of the n-th (0-based) occurrence of `needle` in the whole file. */
function posOf(steps: string, needle: string, n = 0): { line: number; col: number } {
  const text = HEAD + steps;
  let i = -1;
  for (let k = 0; k <= n; k++) {
    i = text.indexOf(needle, i + 1);
    assert.ok(i >= 0, `occurrence ${n} of "${needle}" not in the file`);
  }
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function assertAt(p: LintProblem, at: { line: number; col: number }): void {
  assert.deepEqual({ line: p.line, col: p.col }, at, `position of: ${p.message}`);
}

describe('dsl/validate', () => {
  describe("Pallet's workflows", () => {
    for (const name of ['code-generation.yaml', 'parallel-analysis.yaml', 'smart-router.yaml']) {
      it(`${name} has no problems`, () => {
        const text = readFileSync(path.join(PALLET_WORKFLOWS, name), 'utf8');
        const def = definitionSchema.parse(parseYaml(text));
        assert.deepEqual(validateDefinition(def), []);
      });
    }
  });

  describe('steps list', () => {
    it('a workflow needs at least one step', () => {
      const r = parseDefinition(`${HEAD.replace('steps:\n', 'steps: []\n')}`, 'wf.yaml');
      assert.ok(!r.ok);
      assert.deepEqual(r.problems.map(formatProblem), ['wf.yaml:2:8: a workflow needs at least one step']);
    });
  });

  describe('duplicate step ids', () => {
    it('at the top level: reported at the second id, naming the first', () => {
      const steps = '  - id: plan\n    skill: a\n  - id: plan\n    skill: b\n';
      const p = single(steps);
      assert.equal(p.message, 'duplicate step id "plan" (first defined at steps[0])');
      assert.equal(p.field, 'steps[1].id');
      assertAt(p, posOf(steps, 'plan', 1));
    });

    it('inside a parallel container, against a top-level step', () => {
      const steps =
        '  - id: x\n    skill: a\n' +
        '  - id: par\n    step_type: parallel\n    branches:\n      steps:\n        - id: y\n          skill: a\n        - id: x\n          skill: a\n';
      const p = single(steps);
      assert.equal(p.message, 'duplicate step id "x" (first defined at steps[0])');
      assert.equal(p.field, 'steps[1].branches.steps[1].id');
      const second = posOf(steps, 'id: x', 1);
      assertAt(p, { line: second.line, col: second.col + 'id: '.length });
    });

    it('one id in two branches of one conditional or switch is allowed (only one runs; Pallet runs it), and later steps may read it', () => {
      assertClean(
        '  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.go }}"\n    branches:\n' +
          '      if_true:\n        - id: same\n          skill: a\n      if_false:\n        - id: same\n          skill: b\n' +
          '  - { id: after, skill: k, inputs: { x: "{{ steps.same.outputs }}" } }\n',
      );
      assertClean(
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.kind }}"\n    branches:\n' +
          '      a:\n        - id: dup\n          skill: a\n      b:\n        - id: dup\n          skill: b\n',
      );
    });

    it('but not twice in one branch, nor in a branch and outside the conditional', () => {
      const inBranch =
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.kind }}"\n    branches:\n' +
        '      a:\n        - id: dup\n          skill: a\n        - id: dup\n          skill: b\n';
      assert.equal(single(inBranch).field, 'steps[0].branches.a[1].id');
      const outside =
        '  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.go }}"\n    branches:\n' +
        '      if_true:\n        - id: same\n          skill: a\n  - { id: same, skill: k }\n';
      const p = single(outside);
      assert.equal(p.message, 'duplicate step id "same" (first defined at steps[0].branches.if_true[0])');
      const parallel = '  - id: p\n    step_type: parallel\n    branches:\n      steps:\n        - { id: twin, skill: a }\n        - { id: twin, skill: b }\n';
      assert.equal(single(parallel).field, 'steps[0].branches.steps[1].id');
    });

    it('a container may not reuse the id of one of its own sub-steps', () => {
      const steps = '  - id: par\n    step_type: parallel\n    branches:\n      steps:\n        - id: par\n          skill: a\n';
      assert.deepEqual(messages(steps), ['duplicate step id "par" (first defined at steps[0])']);
    });

    it('three uses of an id give two problems, each naming the first', () => {
      const steps = '  - id: a\n    skill: k\n  - id: a\n    skill: k\n  - id: a\n    skill: k\n';
      assert.deepEqual(messages(steps), ['duplicate step id "a" (first defined at steps[0])', 'duplicate step id "a" (first defined at steps[0])']);
    });
  });

  describe('step types and their required fields', () => {
    it('an unknown step_type is reported at the value, listing the known types', () => {
      const steps = '  - id: s\n    skill: k\n    step_type: loop\n';
      const p = single(steps);
      assert.equal(
        p.message,
        'unknown step_type "loop" in step "s" (expected one of: sequential, parallel, conditional, switch, sleep, wait, for_each, repeat)',
      );
      for (const t of STEP_TYPES) assert.ok(p.message.includes(t), t);
      assertAt(p, posOf(steps, 'loop'));
    });

    it('step types are case-sensitive', () => {
      assert.match(single('  - id: s\n    skill: k\n    step_type: Sequential\n').message, /unknown step_type "Sequential"/);
    });

    it('a sequential step without a skill (explicit or by default)', () => {
      assert.deepEqual(messages('  - id: s\n    inputs: {a: 1}\n'), ['step "s" needs a skill']);
      assert.deepEqual(messages('  - id: s\n    step_type: sequential\n'), ['step "s" needs a skill']);
    });

    it('a sequential step with branches', () => {
      const p = single('  - id: s\n    skill: k\n    branches:\n      if_true:\n        - id: t\n          skill: k\n');
      assert.equal(p.message, 'sequential step "s" cannot have branches');
      assert.equal(p.field, 'steps[0].branches');
    });

    for (const type of ['conditional', 'switch']) {
      it(`${type} without condition`, () => {
        const name = type === 'conditional' ? 'if_true' : 'x';
        const steps = `  - id: c\n    step_type: ${type}\n    branches:\n      ${name}:\n        - id: t\n          skill: k\n`;
        const p = single(steps);
        assert.equal(p.message, `${type} step "c" needs a condition`);
        assert.equal(p.field, 'steps[0].condition');
        assertAt(p, posOf(steps, 'id: c', 0)); // the step's map: the field itself is missing
      });

      it(`${type} without branches, or with an empty branches map`, () => {
        assert.deepEqual(messages(`  - id: c\n    step_type: ${type}\n    condition: "{{ workflow.input.x }}"\n`), [`${type} step "c" needs branches`]);
        assert.deepEqual(messages(`  - id: c\n    step_type: ${type}\n    condition: "{{ workflow.input.x }}"\n    branches: {}\n`), [
          `${type} step "c" needs branches`,
        ]);
      });

      it(`${type} with neither condition nor branches: both reported`, () => {
        assert.deepEqual(messages(`  - id: c\n    step_type: ${type}\n`), [`${type} step "c" needs a condition`, `${type} step "c" needs branches`]);
      });
    }

    it('a conditional branch list may be empty or one branch may be missing', () => {
      assertClean('  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.x }}"\n    branches:\n      if_false: []\n');
    });

    it('parallel without branches.steps', () => {
      assert.deepEqual(messages('  - id: p\n    step_type: parallel\n'), ['parallel step "p" needs branches.steps (the steps to run in parallel)']);
      assert.deepEqual(messages('  - id: p\n    step_type: parallel\n    branches: {}\n'), [
        'parallel step "p" needs branches.steps (the steps to run in parallel)',
      ]);
    });

    it('parallel with another branch name instead of steps: both the unknown name and the missing steps', () => {
      const steps = '  - id: p\n    step_type: parallel\n    branches:\n      if_true:\n        - id: a\n          skill: k\n';
      assert.deepEqual(messages(steps), [
        'parallel step "p" needs branches.steps (the steps to run in parallel)',
        'parallel step "p" has unknown branch "if_true" (expected: steps)',
      ]);
    });

    it('a conditional with an unknown branch name, located at that branch', () => {
      const steps =
        '  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.x }}"\n    branches:\n' +
        '      if_true:\n        - id: a\n          skill: k\n      else:\n        - id: b\n          skill: k\n';
      const p = single(steps);
      assert.equal(p.message, 'conditional step "c" has unknown branch "else" (expected: if_true, if_false)');
      assert.equal(p.field, 'steps[0].branches.else');
      // Either the key `else:` or the list under it is the right place.
      const key = posOf(steps, 'else:');
      assert.ok(p.line === key.line || p.line === key.line + 1, `line ${p.line}`);
    });

    it('a switch accepts any branch names, including default', () => {
      assertClean(
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.kind }}"\n    branches:\n' +
          '      anything:\n        - id: a\n          skill: k\n      default:\n        - id: b\n          skill: k\n',
      );
    });

    it('container steps do not need a skill', () => {
      assertClean('  - id: p\n    step_type: parallel\n    branches:\n      steps:\n        - id: a\n          skill: k\n');
    });

    it('sub-steps inside containers are checked too', () => {
      const steps =
        '  - id: p\n    step_type: parallel\n    branches:\n      steps:\n        - id: a\n' +
        '        - id: b\n          skill: k\n          step_type: nope\n';
      assert.deepEqual(
        lint(steps).map((p) => p.field),
        ['steps[0].branches.steps[0].skill', 'steps[0].branches.steps[1].step_type'],
      );
    });
  });

  describe('template references that cannot work', () => {
    it('to a step that does not exist, located at the string holding the template', () => {
      const steps = '  - id: a\n    skill: k\n    inputs:\n      x: "{{ steps.ghost.outputs.y }}"\n';
      const p = single(steps);
      assert.equal(p.message, 'step "a": template "{{ steps.ghost.outputs.y }}" refers to step "ghost", but there is no such step');
      assert.equal(p.field, 'steps[0].inputs.x');
      assertAt(p, posOf(steps, '"{{ steps.ghost'));
    });

    it('to a later step', () => {
      const steps = '  - id: a\n    skill: k\n    inputs:\n      x: "{{ steps.b.outputs }}"\n  - id: b\n    skill: k\n';
      const p = single(steps);
      assert.match(p.message, /^step "a": template "\{\{ steps\.b\.outputs \}\}" refers to step "b", but that step cannot have run before this one/);
      assertAt(p, posOf(steps, '"{{ steps.b'));
    });

    it('to itself', () => {
      const p = single('  - id: a\n    skill: k\n    inputs:\n      x: "{{ steps.a.outputs }}"\n');
      assert.equal(p.message, 'step "a": template "{{ steps.a.outputs }}" refers to step "a", but a step cannot read its own output');
    });

    it('a container condition reading the container itself, or a step inside it', () => {
      const self = single(
        '  - id: c\n    step_type: conditional\n    condition: "{{ steps.c.outputs }}"\n    branches:\n      if_true:\n        - id: a\n          skill: k\n',
      );
      assert.match(self.message, /a step cannot read its own output/);
      assert.equal(self.field, 'steps[0].condition');
      const inner = '  - id: c\n    step_type: switch\n    condition: "{{ steps.a.outputs }}"\n    branches:\n      x:\n        - id: a\n          skill: k\n';
      const p = single(inner);
      assert.match(p.message, /refers to step "a", but that step cannot have run before this one/);
      assertAt(p, posOf(inner, '"{{ steps.a'));
    });

    it('to a parallel sibling', () => {
      const steps =
        '  - id: p\n    step_type: parallel\n    branches:\n      steps:\n' +
        '        - id: a\n          skill: k\n        - id: b\n          skill: k\n          inputs:\n            x: "{{ steps.a.outputs }}"\n';
      const p = single(steps);
      assert.equal(p.field, 'steps[0].branches.steps[1].inputs.x');
      assert.match(
        p.message,
        /^step "b": .* refers to step "a", but that step cannot have run before this one \(it comes later, or is a parallel sibling or in another branch\)$/,
      );
      assertAt(p, posOf(steps, '"{{ steps.a'));
    });

    it('to a later parallel sibling as well', () => {
      const steps =
        '  - id: p\n    step_type: parallel\n    branches:\n      steps:\n' +
        '        - id: a\n          skill: k\n          inputs:\n            x: "{{ steps.b.outputs }}"\n        - id: b\n          skill: k\n';
      assert.equal(single(steps).field, 'steps[0].branches.steps[0].inputs.x');
    });

    it('to a step in another branch of the same switch', () => {
      const steps =
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.kind }}"\n    branches:\n' +
        '      one:\n        - id: a\n          skill: k\n' +
        '      two:\n        - id: b\n          skill: k\n          inputs:\n            x: "{{ steps.a.outputs }}"\n';
      const p = single(steps);
      assert.equal(p.field, 'steps[0].branches.two[0].inputs.x');
      assert.match(p.message, /refers to step "a", but that step cannot have run before this one/);
      assertAt(p, posOf(steps, '"{{ steps.a'));
    });

    it('to the other branch of a conditional', () => {
      const steps =
        '  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.go }}"\n    branches:\n' +
        '      if_true:\n        - id: a\n          skill: k\n' +
        '      if_false:\n        - id: b\n          skill: k\n          inputs:\n            x: "{{ steps.a.outputs }}"\n';
      assert.equal(single(steps).field, 'steps[0].branches.if_false[0].inputs.x');
    });

    it('to a later step from inside a branch', () => {
      const steps =
        '  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.go }}"\n    branches:\n' +
        '      if_true:\n        - id: a\n          skill: k\n          inputs:\n            x: "{{ steps.z.outputs }}"\n' +
        '  - id: z\n    skill: k\n';
      assert.match(single(steps).message, /refers to step "z", but that step cannot have run before/);
    });

    it('templates deep inside inputs (lists and maps) are checked and located', () => {
      const steps = '  - id: a\n    skill: k\n    inputs:\n      list:\n        - plain\n        - {deep: "see {{ steps.ghost.outputs }}"}\n';
      const p = single(steps);
      assert.equal(p.field, 'steps[0].inputs.list[1].deep');
      assertAt(p, posOf(steps, '"see {{'));
    });

    it('each template in one string is checked', () => {
      const steps = '  - id: a\n    skill: k\n    inputs:\n      x: "{{ steps.g1.outputs }} and {{ steps.g2.outputs }}"\n';
      assert.deepEqual(
        lint(steps).map((p) => [p.field, /"(g\d)"/.exec(p.message)?.[1]]),
        [
          ['steps[0].inputs.x', 'g1'],
          ['steps[0].inputs.x', 'g2'],
        ],
      );
    });
  });

  describe('template paths that are not valid', () => {
    it('an unknown root: {{ foo.bar }}', () => {
      const steps = '  - id: a\n    skill: k\n    inputs:\n      x: "{{ foo.bar }}"\n';
      const p = single(steps);
      assert.equal(
        p.message,
        'step "a": invalid template "{{ foo.bar }}": a template path starts with "workflow.input", "steps.<id>.outputs" or (in a for_each step) "item" or "index"',
      );
      assertAt(p, posOf(steps, '"{{ foo'));
    });

    it('steps.plan.result: the hint says results are under outputs', () => {
      const p = single('  - id: plan\n    skill: k\n  - id: b\n    skill: k\n    inputs:\n      x: "{{ steps.plan.result }}"\n');
      assert.equal(p.message, 'step "b": invalid template "{{ steps.plan.result }}": expected "steps.plan.outputs..." (step results are read under "outputs")');
    });

    it('workflow.<not input>, steps alone, an empty template, an empty segment', () => {
      assert.match(single('  - id: a\n    skill: k\n    inputs: {x: "{{ workflow.output }}"}\n').message, /only "workflow\.input"/);
      assert.match(single('  - id: a\n    skill: k\n    inputs: {x: "{{ steps }}"}\n').message, /missing step id/);
      assert.match(single('  - id: a\n    skill: k\n    inputs: {x: "{{ }}"}\n').message, /empty path segment/);
      assert.match(single('  - id: a\n    skill: k\n    inputs: {x: "{{ workflow..input }}"}\n').message, /empty path segment/);
    });

    it('an invalid template in a condition', () => {
      const p = single('  - id: c\n    step_type: switch\n    condition: "{{ input.kind }}"\n    branches:\n      a:\n        - id: s\n          skill: k\n');
      assert.equal(p.field, 'steps[0].condition');
      assert.match(p.message, /^step "c": invalid template/);
    });
  });

  describe('what is allowed', () => {
    it('workflow.input alone, and nested input paths', () => {
      assertClean('  - id: a\n    skill: k\n    inputs:\n      all: "{{ workflow.input }}"\n      one: "{{ workflow.input.a.b.0 }}"\n');
    });

    it('an earlier top-level step, and the step record steps.<id> alone', () => {
      assertClean('  - id: a\n    skill: k\n  - id: b\n    skill: k\n    inputs:\n      x: "{{ steps.a.outputs.r }}"\n      y: "{{ steps.a }}"\n');
    });

    it('a step before a container, read from inside its branches and its condition', () => {
      assertClean(
        '  - id: first\n    skill: k\n' +
          '  - id: c\n    step_type: conditional\n    condition: "{{ steps.first.outputs.ok }}"\n    branches:\n' +
          '      if_true:\n        - id: a\n          skill: k\n          inputs: {x: "{{ steps.first.outputs }}"}\n' +
          '  - id: p\n    step_type: parallel\n    branches:\n      steps:\n        - id: b\n          skill: k\n          inputs: {x: "{{ steps.first.outputs }}"}\n',
      );
    });

    it('an earlier step in the same conditional or switch branch', () => {
      assertClean(
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.kind }}"\n    branches:\n' +
          '      one:\n        - id: a\n          skill: k\n        - id: b\n          skill: k\n          inputs: {x: "{{ steps.a.outputs }}"}\n',
      );
    });

    it('after a container: any step from its branches (conditional, switch, parallel, nested)', () => {
      assertClean(
        '  - id: c\n    step_type: conditional\n    condition: "{{ workflow.input.go }}"\n    branches:\n' +
          '      if_true:\n        - id: t\n          skill: k\n      if_false:\n        - id: f\n          skill: k\n' +
          '  - id: s\n    step_type: switch\n    condition: "{{ steps.t.outputs }}"\n    branches:\n' +
          '      x:\n        - id: inner\n          step_type: parallel\n          branches:\n            steps:\n              - id: deep\n                skill: k\n' +
          '  - id: p\n    step_type: parallel\n    branches:\n      steps:\n        - id: p1\n          skill: k\n' +
          '  - id: last\n    skill: k\n    inputs:\n' +
          '      a: "{{ steps.t.outputs }}"\n      b: "{{ steps.f.outputs }}"\n      c: "{{ steps.deep.outputs }}"\n' +
          '      d: "{{ steps.inner.outputs }}"\n      e: "{{ steps.p1.outputs }}"\n      f: "{{ steps.p.outputs }}"\n',
      );
    });

    it('a condition that is a literal string, not a template', () => {
      assertClean('  - id: c\n    step_type: conditional\n    condition: "false"\n    branches:\n      if_true:\n        - id: a\n          skill: k\n');
    });

    it('text around templates and strings with no template at all', () => {
      assertClean(
        '  - id: a\n    skill: k\n  - id: b\n    skill: k\n    inputs:\n      x: "Use {{ steps.a.outputs.code }} in {{ workflow.input.lang }}"\n      y: "a { literal } brace"\n',
      );
    });
  });

  describe('several problems in one file are all reported at once', () => {
    const steps = [
      '  - id: a', //                                        steps[0]
      '    skill: k',
      '    inputs:',
      '      x: "{{ steps.b.outputs }}"', //                  1: later step
      '      y: "{{ foo.bar }}"', //                          2: invalid root
      '  - id: a', //                                        3: duplicate id (steps[1])
      '    step_type: nope', //                             4: unknown type
      '  - id: c', //                                        5: no skill (steps[2])
      '  - id: d', //                                        6, 7: no condition, no branches (steps[3])
      '    step_type: conditional',
      '  - id: e', //                                        steps[4]
      '    step_type: parallel',
      '    branches:',
      '      other:', //                                    8: unknown branch; 9: no branches.steps
      '        - id: f',
      '          skill: k',
      '          inputs:',
      '            z: "{{ steps.ghost.outputs }}"', //       10: no such step
      '  - id: b',
      '    skill: k',
      '',
    ].join('\n');

    it('counts and lists every problem with its field', () => {
      const problems = lint(steps);
      assert.equal(problems.length, 10, problems.map(formatProblem).join('\n'));
      assert.deepEqual(
        problems.map((p) => p.field),
        [
          'steps[0].inputs.x',
          'steps[0].inputs.y',
          'steps[1].id',
          'steps[1].step_type',
          'steps[2].skill',
          'steps[3].condition',
          'steps[3].branches',
          'steps[4].branches.steps',
          'steps[4].branches.other',
          'steps[4].branches.other[0].inputs.z',
        ],
      );
    });

    it('every problem has the file, a line and a column, in FILE:LINE:COL form', () => {
      const problems = lint(steps);
      for (const p of problems) {
        assert.equal(p.file, 'wf.yaml');
        assert.ok(Number.isInteger(p.line) && Number.isInteger(p.col), formatProblem(p));
        assert.match(formatProblem(p), /^wf\.yaml:\d+:\d+: /);
      }
      const byField = new Map(problems.map((p) => [p.field, p]));
      assertAt(byField.get('steps[0].inputs.x')!, posOf(steps, '"{{ steps.b'));
      assertAt(byField.get('steps[0].inputs.y')!, posOf(steps, '"{{ foo'));
      const dup = posOf(steps, 'id: a', 1);
      assertAt(byField.get('steps[1].id')!, { line: dup.line, col: dup.col + 'id: '.length });
      assertAt(byField.get('steps[1].step_type')!, posOf(steps, 'nope'));
      assertAt(byField.get('steps[2].skill')!, posOf(steps, 'id: c'));
      assertAt(byField.get('steps[4].branches.other[0].inputs.z')!, posOf(steps, '"{{ steps.ghost'));
    });

    it('validateDefinition itself returns the id and template problems with field paths (the schema reports the rest)', () => {
      const r = parseDefinition(HEAD + steps, 'wf.yaml');
      assert.ok(!r.ok);
      const direct = validateDefinition(parseYaml(HEAD + steps) as { steps: unknown });
      const fields = direct.map((p) => formatPath(p.path));
      assert.deepEqual(fields, ['steps[0].inputs.x', 'steps[0].inputs.y', 'steps[1].id', 'steps[4].branches.other[0].inputs.z']);
      assert.deepEqual(
        direct.map((p) => p.message),
        r.problems.filter((p) => fields.includes(p.field ?? '')).map((p) => p.message),
      );
    });
  });

  describe('locations of problems inside switch branches', () => {
    it('a branch named by a string key is located at the template', () => {
      const steps =
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.n }}"\n    branches:\n' +
        '      "6":\n        - id: six\n          skill: k\n          inputs:\n            x: "{{ steps.ghost.outputs }}"\n';
      assertAt(single(steps), posOf(steps, '"{{ steps.ghost'));
    });
    // number, which Pallet compares via str(): 6 → "6") is found by validation under the
    // string key "6", but locateField() looks the path up in the YAML document with the string
    // "6", which does not match the number key 6. The problem is then located at the parent
    // `branches` map (here 7:7) instead of the template string (11:16).
    it('a branch named by a number key (6:) is located at the template', () => {
      const steps =
        '  - id: s\n    step_type: switch\n    condition: "{{ workflow.input.n }}"\n    branches:\n' +
        '      6:\n        - id: six\n          skill: k\n          inputs:\n            x: "{{ steps.ghost.outputs }}"\n';
      assertAt(single(steps), posOf(steps, '"{{ steps.ghost'));
    });
  });
});
