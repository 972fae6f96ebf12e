// metadata.input_schema: a JSON Schema of the workflow input, compiled by the loader, advised on by lint, checked by runArgs.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runArgs } from '../../../src/client';
import { lintFile } from '../../../src/cli/lint';
import { checkInput, InputError, inputErrors } from '../../../src/dsl/input-schema';
import { parseDefinition } from '../../../src/dsl/loader';

const STEPS = 'steps:\n  - { id: plan, skill: create_plan, inputs: { requirements: "{{ workflow.input.requirements }}" } }\n';

function withSchema(schema: string): string {
  return `metadata:\n  id: gen-v1\n  name: Gen\n  version: "1"\n  input_schema:\n${schema
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n${STEPS}`;
}

const REQUIREMENTS = `type: object
required: [requirements]
properties:
  requirements: { type: string, minLength: 1 }
  language: { enum: [python, go] }
  files:
    type: array
    items: { type: object, properties: { name: { type: string } } }`;

describe('dsl/input-schema', () => {
  it('a definition without input_schema loads as before: Pallet files are unchanged', () => {
    const parsed = parseDefinition(`metadata: { id: a, name: A, version: "1" }\n${STEPS}`, 'a.yaml');
    assert.ok(parsed.ok);
    assert.equal(parsed.definition.metadata.input_schema, undefined);
    assert.doesNotThrow(() => checkInput(parsed.definition.metadata, { anything: 1 }));
  });

  it('a declared schema is kept on the metadata as written', () => {
    const parsed = parseDefinition(withSchema(REQUIREMENTS), 'a.yaml');
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.map((p) => p.message).join('\n'));
    assert.deepEqual(parsed.definition.metadata.input_schema?.required, ['requirements']);
  });

  it('input_schema that is not a map is refused by the schema, at its line', () => {
    const parsed = parseDefinition(withSchema('').replace('input_schema:\n    ', 'input_schema: [1, 2]'), 'a.yaml');
    assert.ok(!parsed.ok);
    assert.match(parsed.problems.map((p) => `${p.line}: ${p.message}`).join('\n'), /^5: .*input_schema must be a map/m);
  });

  it('input_schema that is not a valid JSON Schema is an error naming the field and why, at its line', () => {
    const parsed = parseDefinition(withSchema('type: objekt'), 'a.yaml');
    assert.ok(!parsed.ok);
    assert.equal(parsed.problems.length, 1);
    const [problem] = parsed.problems;
    assert.equal(problem.field, 'metadata.input_schema');
    assert.equal(problem.line, 6);
    assert.match(problem.message, /metadata\.input_schema is not a valid JSON Schema: .*type/);
  });

  it('a 2020-12 schema compiles with that draft ($defs, prefixItems)', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { name: { type: 'string' } },
      type: 'object',
      properties: { pair: { type: 'array', prefixItems: [{ $ref: '#/$defs/name' }, { type: 'integer' }] } },
    };
    assert.deepEqual(inputErrors(schema, { pair: ['a', 1] }), []);
    assert.deepEqual(inputErrors(schema, { pair: ['a', 'b'] }), ['input.pair[1] must be integer']);
  });

  it('input that does not fit names every field concerned', () => {
    const parsed = parseDefinition(withSchema(REQUIREMENTS), 'a.yaml');
    assert.ok(parsed.ok);
    const schema = parsed.definition.metadata.input_schema!;
    assert.deepEqual(inputErrors(schema, { requirements: 'a CLI', language: 'go' }), []);
    assert.deepEqual(inputErrors(schema, {}), ['input.requirements is required']);
    assert.deepEqual(inputErrors(schema, { requirements: 3, language: 'rust', files: [{ name: 1 }] }), [
      'input.requirements must be string',
      'input.language must be one of "python", "go"',
      'input.files[0].name must be string',
    ]);
    assert.throws(
      () => checkInput(parsed.definition.metadata, { requirements: '' }),
      (err: unknown) =>
        err instanceof InputError && /gen-v1's metadata\.input_schema: input\.requirements must NOT have fewer than 1 characters/.test(err.message),
    );
  });

  it('runArgs (pallet run) refuses input that does not fit a declared schema, and leaves undeclared input alone', () => {
    const parsed = parseDefinition(withSchema(REQUIREMENTS), 'a.yaml');
    assert.ok(parsed.ok);
    const target = { definition: parsed.definition, source: { ref: '/a.yaml', digest: parsed.digest }, definitionId: 'gen-v1' };
    assert.throws(() => runArgs(target, { input: { requirement: 'typo' } }), /input\.requirements is required/);
    assert.equal(runArgs(target, { input: { requirements: 'a CLI' } }).input?.requirements, 'a CLI');
    const plain = parseDefinition(`metadata: { id: a, name: A, version: "1" }\n${STEPS}`, 'a.yaml');
    assert.ok(plain.ok);
    assert.deepEqual(runArgs({ ...target, definition: plain.definition }, { input: { whatever: true } }).input, { whatever: true });
  });

  describe('lint', () => {
    let dir: string;
    before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'input-schema-'))));
    after(() => rm(dir, { recursive: true, force: true }));

    async function lint(text: string) {
      const file = path.join(dir, 'w.yaml');
      await writeFile(file, text);
      return (await lintFile(file)).map((p) => `${p.warning ? 'warning ' : ''}${p.line}: ${p.message}`);
    }

    it('a good schema with fitting default and examples: nothing to say', async () => {
      assert.deepEqual(await lint(withSchema(`${REQUIREMENTS}\ndefault: { requirements: a CLI }\nexamples: [{ requirements: x, language: go }]`)), []);
    });

    it('warns about a default or an example the schema refuses, naming which', async () => {
      const problems = await lint(
        withSchema(`${REQUIREMENTS}\ndefault: { language: go }\nexamples: [{ requirements: x }, { requirements: x, language: cobol }]`),
      );
      assert.deepEqual(problems, [
        'warning 14: metadata.input_schema: this default does not fit the schema: input.requirements is required',
        'warning 15: metadata.input_schema: this example does not fit the schema: input.language must be one of "python", "go"',
      ]);
    });

    it('warns about a keyword no draft knows (a typo checks nothing)', async () => {
      const problems = await lint(withSchema('type: object\nrequird: [requirements]'));
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^warning 6: metadata\.input_schema: strict mode: unknown keyword: "requird" \(it is not checked\)/);
    });

    it('warns about a top-level type other than object: a workflow input is always an object', async () => {
      assert.deepEqual(await lint(withSchema('type: array')), [
        'warning 6: metadata.input_schema: type "array" can never fit: a workflow input is always an object (type: object)',
      ]);
      assert.deepEqual(await lint(withSchema('type: [object, "null"]')), []);
    });

    it('an invalid schema is an error', async () => {
      const problems = await lint(withSchema('properties: { a: { minLength: -1 } }'));
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^6: metadata\.input_schema is not a valid JSON Schema/);
    });
  });
});
