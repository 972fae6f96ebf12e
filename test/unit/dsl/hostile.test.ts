// The loader never throws: hostile or broken YAML gives structured problems with file and
// line, in bounded time, and keys such as `constructor` and `__proto__` stay data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatProblem, MAX_NESTING, parseDefinition } from '../../../src/dsl/loader';
import { resolveValue } from '../../../src/dsl/templates';
import { PALLET_WORKFLOWS } from '../../helpers/pallet';

const HEAD = 'metadata: { id: h, name: H, version: "1" }\nsteps:\n';

function problems(text: string): string[] {
  const r = parseDefinition(text, 'h.yaml');
  assert.ok(!r.ok, 'expected problems');
  return r.problems.map(formatProblem);
}

describe('dsl/loader on hostile input', () => {
  it('keys named constructor, toString and __proto__ are kept as data, in inputs and as switch branches', () => {
    const r = parseDefinition(
      HEAD +
        '  - { id: s, skill: k, inputs: { constructor: null, toString: 1, __proto__: { a: 1 } } }\n' +
        '  - id: sw\n    step_type: switch\n    condition: "{{ workflow.input.kind }}"\n    branches:\n' +
        '      __proto__: [{ id: p, skill: k }]\n      constructor: [{ id: c, skill: k }]\n',
      'h.yaml',
    );
    assert.ok(r.ok, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
    const [s, sw] = r.definition.steps;
    assert.deepEqual(Object.keys(s.inputs!), ['constructor', 'toString', '__proto__']);
    assert.equal(sw.step_type, 'switch');
    assert.deepEqual(Object.keys(sw.branches), ['__proto__', 'constructor']);
    // Templates keep them too.
    const resolved = resolveValue(s.inputs, { input: {}, outputs: {} }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(resolved), ['constructor', 'toString', '__proto__']);
    assert.equal(Object.getPrototypeOf(resolved), Object.prototype);
  });

  it('an alias to an anchor that does not exist is reported at the alias', () => {
    assert.deepEqual(problems(HEAD + '  - { id: s, skill: k, inputs: { a: *nope } }\n'), [
      'h.yaml:3:37: alias *nope refers to no anchor &nope defined before it',
    ]);
  });

  it('an alias bomb is refused quickly, at its first alias', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [prev, name] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'g'],
    ])
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    const started = Date.now();
    const [p] = problems(`${levels.join('\n')}\n${HEAD}  - { id: s, skill: k, inputs: { x: *g } }\n`);
    assert.match(p, /^h\.yaml:2:\d+: aliases expand to too much data/);
    assert.ok(Date.now() - started < 2000);
  });

  for (const depth of [MAX_NESTING + 5, 3000]) {
    it(`data nested ${depth} levels deep is refused with a line, not a stack overflow`, () => {
      const [p] = problems(HEAD + `  - { id: s, skill: k, inputs: { x: ${'['.repeat(depth)}${']'.repeat(depth)} } }\n`);
      assert.match(p, /^h\.yaml:3:\d+: .*(nest more than|nests too deeply)/);
    });
  }

  it('steps nested past the limit are refused at the step', () => {
    let yaml = '';
    let indent = '  ';
    for (let i = 0; i < 40; i++) {
      yaml += `${indent}- id: c${i}\n${indent}  step_type: conditional\n${indent}  condition: x\n${indent}  branches:\n${indent}    if_true:\n`;
      indent += '      ';
    }
    const [p] = problems(HEAD + yaml + `${indent}- { id: leaf, skill: k }\n`);
    assert.match(p, /^h\.yaml:\d+:\d+: maps and lists nest more than 100 levels/);
  });

  it('a step id "__proto__" is reserved', () => {
    assert.match(problems(HEAD + '  - { id: __proto__, skill: k }\n')[0], /step id "__proto__" is reserved/);
  });

  it('1,000 mutations of Pallet’s files each give a definition or located problems, never a throw', () => {
    const sources = ['code-generation.yaml', 'parallel-analysis.yaml', 'smart-router.yaml'].map((f) => readFileSync(path.join(PALLET_WORKFLOWS, f), 'utf8'));
    const junk = ['*', '&', '[', ']', '{', '}', ':', '- ', '"', "'", '{{', '}}', '\t', '!!binary ', '<<: *a', '~', 'constructor: null', '__proto__: {}'];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let refused = 0;
    const started = Date.now();
    for (let i = 0; i < 1000; i++) {
      const lines = sources[i % sources.length].split('\n');
      for (let m = 0; m <= rand(3); m++) {
        const at = rand(lines.length);
        const kind = rand(4);
        if (kind === 0) lines.splice(at, 1);
        else if (kind === 1) lines.splice(at, 0, lines[rand(lines.length)]);
        else if (kind === 2) lines[at] = lines[at].slice(0, rand(lines[at].length + 1)) + junk[rand(junk.length)] + lines[at].slice(rand(lines[at].length + 1));
        else lines[at] = ' '.repeat(rand(8)) + lines[at].trimStart();
      }
      const r = parseDefinition(lines.join('\n'), `m${i}.yaml`);
      if (!r.ok) {
        refused++;
        for (const p of r.problems) assert.ok(p.line !== undefined && p.message.length > 0, `m${i}: ${formatProblem(p)}`);
      }
    }
    assert.ok(refused > 300, `only ${refused} of 1000 mutations were refused: the mutations are too mild to test anything`);
    assert.ok(Date.now() - started < 20_000);
  });
});
