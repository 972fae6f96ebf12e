// Template resolution, Python truthiness and Python str(), as the interpreter uses them.
import assert from 'node:assert/strict';
import { findTemplates, isTruthy, lookup, parseTemplatePath, pythonStr, resolveValue, type TemplateContext } from '../../../src/dsl/templates';

const ctx: TemplateContext = {
  input: {
    requirements: 'a todo app',
    count: 3,
    ratio: 0.5,
    flag: false,
    nothing: null,
    items: ['first', { name: 'second' }, ['x', 'y']],
    nested: { deep: { value: 'bottom' } },
    map: { '1': 'one' },
  },
  outputs: {
    plan: { result: { steps: ['design', 'build'], estimate: 8, done: true } },
    build: { result: { code: 'print(1)', language: 'python' } },
    raw: 'just text',
    zero: 0,
  },
};

const r = (value: unknown, c: TemplateContext = ctx) => resolveValue(value, c);

describe('dsl/templates', () => {
  describe('a string that is exactly one template keeps the type of the value', () => {
    it('object', () => {
      assert.deepEqual(r('{{ steps.plan.outputs.result }}'), { steps: ['design', 'build'], estimate: 8, done: true });
    });
    it('list', () => {
      assert.deepEqual(r('{{ steps.plan.outputs.result.steps }}'), ['design', 'build']);
    });
    it('number', () => {
      assert.equal(r('{{ workflow.input.count }}'), 3);
      assert.equal(r('{{ workflow.input.ratio }}'), 0.5);
      assert.equal(r('{{ steps.zero.outputs }}'), 0);
    });
    it('boolean', () => {
      assert.equal(r('{{ workflow.input.flag }}'), false);
      assert.equal(r('{{ steps.plan.outputs.result.done }}'), true);
    });
    it('null (a value that is null, not missing)', () => {
      assert.equal(r('{{ workflow.input.nothing }}'), null);
    });
    it('string', () => {
      assert.equal(r('{{ workflow.input.requirements }}'), 'a todo app');
    });
    it('the resolved value is the value itself, not a string form of it', () => {
      assert.equal(typeof r('{{ workflow.input.count }}'), 'number');
      assert.ok(Array.isArray(r('{{ workflow.input.items }}')));
    });
  });

  describe('whitespace inside the braces', () => {
    for (const text of ['{{x}}', '{{ x }}', '{{   x   }}', '{{\tx\t}}']) {
      const t = text.replace('x', 'workflow.input.count');
      it(JSON.stringify(t), () => assert.equal(r(t), 3));
    }
  });

  describe('paths', () => {
    it('a path that does not exist resolves to null (no error)', () => {
      assert.equal(r('{{ workflow.input.nope }}'), null);
      assert.equal(r('{{ workflow.input.nested.nope.deeper }}'), null);
      assert.equal(r('{{ steps.unknown.outputs }}'), null);
      assert.equal(r('{{ steps.plan.outputs.nope }}'), null);
      assert.equal(r('{{ workflow.input.requirements.length }}'), null, 'no properties of strings');
      assert.equal(r('{{ workflow.input.items.length }}'), null, 'no properties of lists');
      assert.equal(r('{{ workflow.input.items.9 }}'), null, 'index past the end');
    });

    it('does not reach JavaScript object internals', () => {
      assert.equal(r('{{ workflow.input.constructor }}'), null);
      assert.equal(r('{{ workflow.input.toString }}'), null);
      assert.equal(r('{{ workflow.input.__proto__ }}'), null);
      assert.equal(r('{{ steps.constructor.outputs }}'), null);
    });

    it('workflow.input alone is the whole input', () => {
      assert.deepEqual(r('{{ workflow.input }}'), ctx.input);
    });

    it('steps.<id>.outputs is the stored output, nested keys go into it', () => {
      assert.deepEqual(r('{{ steps.build.outputs }}'), { result: { code: 'print(1)', language: 'python' } });
      assert.equal(r('{{ steps.build.outputs.result.code }}'), 'print(1)');
      assert.equal(r('{{ steps.raw.outputs }}'), 'just text');
      assert.equal(r('{{ workflow.input.nested.deep.value }}'), 'bottom');
    });

    it('steps.<id> alone is the step record { outputs }', () => {
      assert.deepEqual(r('{{ steps.raw }}'), { outputs: 'just text' });
      assert.equal(r('{{ steps.nope }}'), null);
    });

    it('list indices', () => {
      assert.equal(r('{{ workflow.input.items.0 }}'), 'first');
      assert.equal(r('{{ workflow.input.items.1.name }}'), 'second');
      assert.equal(r('{{ workflow.input.items.2.1 }}'), 'y');
      assert.equal(r('{{ steps.plan.outputs.result.steps.1 }}'), 'build');
      assert.equal(r('{{ workflow.input.map.1 }}'), 'one', 'a digit key of a map');
    });

    it('invalid roots resolve to null', () => {
      assert.equal(r('{{ foo.bar }}'), null);
      assert.equal(r('{{ workflow.output }}'), null);
      assert.equal(r('{{ steps.plan.result }}'), null);
      assert.equal(lookup('workflow', ctx), null);
    });
  });

  describe('interpolation (text around templates, several templates)', () => {
    it('text around one template', () => {
      assert.equal(r('Build {{ workflow.input.requirements }} now'), 'Build a todo app now');
    });
    it('several templates in one string', () => {
      assert.equal(r('{{ steps.build.outputs.result.language }}: {{ steps.build.outputs.result.code }}'), 'python: print(1)');
      assert.equal(r('{{workflow.input.count}}{{workflow.input.count}}'), '33');
    });
    it('numbers as text', () => {
      assert.equal(r('count={{ workflow.input.count }} ratio={{ workflow.input.ratio }}'), 'count=3 ratio=0.5');
    });
    it('objects and lists as JSON', () => {
      assert.equal(r('plan: {{ steps.plan.outputs.result }}'), 'plan: {"steps":["design","build"],"estimate":8,"done":true}');
      assert.equal(r('steps: {{ steps.plan.outputs.result.steps }}'), 'steps: ["design","build"]');
    });
    it('null and missing as empty text', () => {
      assert.equal(r('[{{ workflow.input.nothing }}]'), '[]');
      assert.equal(r('[{{ workflow.input.nope }}]'), '[]');
    });
    it('strings without templates are unchanged, including stray braces', () => {
      for (const s of ['plain', '', 'a { b } c', 'open {{ only', 'close }} only', '{ {x} }']) assert.equal(r(s), s);
    });
  });

  describe('nested values', () => {
    it('resolves inside maps and lists at any depth', () => {
      const value = {
        a: '{{ workflow.input.count }}',
        b: { c: { d: '{{ steps.build.outputs.result.language }}' } },
        list: ['{{ workflow.input.count }}', ['{{ workflow.input.flag }}', { e: 'x {{ workflow.input.count }}' }]],
      };
      assert.deepEqual(r(value), { a: 3, b: { c: { d: 'python' } }, list: [3, [false, { e: 'x 3' }]] });
    });
    it('non-string values pass through unchanged', () => {
      for (const v of [42, 0, true, false, null, 1.5]) assert.equal(r(v), v);
      assert.deepEqual(r({ n: 1, b: true, z: null, l: [1, 2] }), { n: 1, b: true, z: null, l: [1, 2] });
    });
    it('does not modify the value it is given', () => {
      const value = { a: ['{{ workflow.input.count }}'], b: { c: '{{ workflow.input.count }}' } };
      const copy = structuredClone(value);
      r(value);
      assert.deepEqual(value, copy);
    });
  });

  describe('isTruthy follows Python', () => {
    const table: [unknown, boolean][] = [
      [null, false],
      [undefined, false],
      [false, false],
      [0, false],
      [-0, false],
      [0.0, false],
      ['', false],
      [[], false],
      [{}, false],
      [true, true],
      [1, true],
      [-1, true],
      [0.1, true],
      ['0', true],
      ['false', true],
      ['False', true],
      [' ', true],
      [[0], true],
      [[null], true],
      [{ a: null }, true],
    ];
    for (const [value, expected] of table) {
      it(`${JSON.stringify(value) ?? 'undefined'} → ${expected}`, () => assert.equal(isTruthy(value), expected));
    }
  });

  describe("pythonStr is Python's str()", () => {
    const table: [unknown, string][] = [
      [6, '6'],
      [6.5, '6.5'],
      [-2, '-2'],
      [0, '0'],
      [true, 'True'],
      [false, 'False'],
      [null, 'None'],
      ['code_generation', 'code_generation'],
      ["it's", "it's"],
      ['', ''],
      [[1, 'a', true, null], "[1, 'a', True, None]"],
      [[], '[]'],
      [{ a: 1, b: [false] }, "{'a': 1, 'b': [False]}"],
      [{}, '{}'],
    ];
    for (const [value, expected] of table) {
      it(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(pythonStr(value), expected));
    }
    // repr("it's") is "it's" in double quotes (impl: 'it\'s'), and repr("a\nb") escapes the
    // newline as \n (impl: keeps a raw newline). So str(["it's", "a\nb"]) in Python is
    // ["it's", 'a\nb'] but pythonStr gives ['it\'s', 'a<newline>b'].
    it('strings inside containers use Python repr quoting and escapes', () => {
      assert.equal(pythonStr(["it's"]), `["it's"]`);
      assert.equal(pythonStr(['a\nb']), `['a\\nb']`);
      assert.equal(pythonStr({ k: 'tab\there' }), `{'k': 'tab\\there'}`);
    });
  });

  describe('findTemplates and parseTemplatePath', () => {
    it('returns the path inside each template and where the string sits', () => {
      const value = {
        a: 'x {{ workflow.input.a }} y {{steps.b.outputs.c}}',
        l: [1, '{{ workflow.input }}', { m: '{{   steps.d.outputs   }}' }],
        n: 5,
        plain: 'no templates',
      };
      assert.deepEqual(findTemplates(value, ['steps', 0, 'inputs']), [
        { text: 'workflow.input.a', path: ['steps', 0, 'inputs', 'a'] },
        { text: 'steps.b.outputs.c', path: ['steps', 0, 'inputs', 'a'] },
        { text: 'workflow.input', path: ['steps', 0, 'inputs', 'l', 1] },
        { text: 'steps.d.outputs', path: ['steps', 0, 'inputs', 'l', 2, 'm'] },
      ]);
    });

    it('finds nothing in values without templates', () => {
      assert.deepEqual(findTemplates({ a: 1, b: ['x', null, true], c: 'a { b }' }), []);
      assert.deepEqual(findTemplates('{{ workflow.input }}'), [{ text: 'workflow.input', path: [] }]);
    });

    it('parses the roots and tells why a path is invalid', () => {
      assert.deepEqual(parseTemplatePath('workflow.input.a.b'), { kind: 'input', path: ['a', 'b'], text: 'workflow.input.a.b' });
      assert.deepEqual(parseTemplatePath('steps.plan.outputs.result'), {
        kind: 'step',
        stepId: 'plan',
        path: ['result'],
        record: false,
        text: 'steps.plan.outputs.result',
      });
      assert.equal(parseTemplatePath('foo.bar').kind, 'invalid');
      assert.equal(parseTemplatePath('workflow.a').kind, 'invalid');
      assert.equal(parseTemplatePath('steps').kind, 'invalid');
      assert.equal(parseTemplatePath('workflow..input').kind, 'invalid');
      assert.equal(parseTemplatePath('').kind, 'invalid');
      const wrong = parseTemplatePath('steps.plan.result');
      assert.ok(wrong.kind === 'invalid' && /outputs/.test(wrong.reason), JSON.stringify(wrong));
    });
  });
});
