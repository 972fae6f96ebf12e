// The JSON Schema for editors (pallet-workflow.schema.json) is generated from the zod schema,
// committed, and says what the loader says: every example, fixture and differential-test file
// is accepted or refused by both, and so are hand-made invalid files.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse as parseYaml, parseDocument } from 'yaml';
import { JSON_SCHEMA_FILE, JSON_SCHEMA_ID, workflowJsonSchema, workflowJsonSchemaText } from '../../../src/dsl/json-schema';
import { parseDefinition, YAML_OPTIONS } from '../../../src/dsl/loader';
import { definitionSchema } from '../../../src/dsl/schema';
import { PALLET_ORIGINALS, PALLET_TEST_WORKFLOWS, PALLET_WORKFLOWS } from '../../helpers/pallet';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIFFERENTIAL = path.join(ROOT, 'test', 'differential');

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/.test(name) ? [full] : [];
    });
}

/** The data of a file as the loader reads it (PyYAML's YAML 1.1), or undefined when it is not YAML. */
function readData(text: string): unknown {
  const doc = parseDocument(text, YAML_OPTIONS);
  return doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 });
}

/**
 * What the schema part of the loader says: the zod schema, plus the one rule of validate.ts
 * that the JSON Schema states too (at least one step). Unique ids and template references are
 * beyond any JSON Schema.
 */
function zodAccepts(data: unknown): boolean {
  const parsed = definitionSchema.safeParse(data);
  return parsed.success && parsed.data.steps.length > 0;
}

type Schema = Record<string, unknown>;

/** Every subschema with where it is, except the deliberate `not: {}` (a sequential step has no branches). */
function subschemas(schema: Schema, where: string): [string, Schema][] {
  const children: [string, unknown][] = [];
  for (const key of ['properties', 'definitions'])
    for (const [k, v] of Object.entries((schema[key] as Schema | undefined) ?? {})) children.push([`${where}/${key}/${k}`, v]);
  for (const key of ['items', 'additionalProperties']) if (typeof schema[key] === 'object') children.push([`${where}/${key}`, schema[key]]);
  ((schema.anyOf as unknown[] | undefined) ?? []).forEach((v, i) => children.push([`${where}/anyOf/${i}`, v]));
  return [[where, schema], ...children.flatMap(([w, v]) => subschemas(v as Schema, w))];
}

let validate: ValidateFunction;
const ajvErrors = () => JSON.stringify(validate.errors?.slice(0, 3));

describe('dsl/json-schema', () => {
  before(() => {
    // strict: the schema uses only what draft-07 defines (strict mode refuses unknown keywords and loose types).
    const ajv = new Ajv({ strict: true, allErrors: true });
    validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, JSON_SCHEMA_FILE), 'utf8')));
  });

  it('the committed schema is the generated one, byte for byte', () => {
    const committed = readFileSync(path.join(ROOT, JSON_SCHEMA_FILE), 'utf8');
    assert.ok(committed === workflowJsonSchemaText(), `${JSON_SCHEMA_FILE} is out of date with src/dsl/schema.ts: run npm run schema`);
  });

  it('is draft-07 with an $id, a title and descriptions, and nothing zod could not convert', () => {
    const schema = workflowJsonSchema();
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.$id, JSON_SCHEMA_ID);
    assert.equal(schema.title, 'Pallet workflow');
    // An unconverted zod part would be a schema that says nothing (anything goes) or a zod-made definition name.
    assert.doesNotMatch(JSON.stringify(schema), /__schema/);
    for (const [where, sub] of subschemas(schema, '#')) {
      assert.ok(
        Object.keys(sub).some((k) => k !== 'description' && k !== 'default'),
        `${where} accepts anything`,
      );
    }
    const step = (schema.definitions as Record<string, { anyOf: { properties: Record<string, { description?: string }> }[] }>).Step;
    for (const option of step.anyOf) {
      for (const key of ['id', 'inputs', 'outputs', 'timeout', 'step_type']) assert.ok(option.properties[key].description, `${key} has a description`);
    }
  });

  describe('agrees with the loader on every file of the project', () => {
    const corpus = [
      ...yamlFiles(PALLET_WORKFLOWS),
      ...yamlFiles(PALLET_TEST_WORKFLOWS),
      ...(PALLET_ORIGINALS ? yamlFiles(PALLET_ORIGINALS) : []),
      ...yamlFiles(DIFFERENTIAL),
    ];

    it('finds the files', () => {
      assert.ok(corpus.length > 60, `${corpus.length} files`);
    });

    it("Pallet's examples and valid fixtures are valid for both (read as YAML 1.1, and as an editor's YAML 1.2 reads them)", () => {
      const valid = [...yamlFiles(PALLET_WORKFLOWS), path.join(PALLET_TEST_WORKFLOWS, 'valid_simple.yaml')];
      for (const file of valid) {
        const text = readFileSync(file, 'utf8');
        assert.ok(parseDefinition(text, file).ok, `${file} loads`);
        assert.ok(validate(readData(text)), `${file}: ${ajvErrors()}`);
        assert.ok(validate(parseYaml(text)), `${file} (YAML 1.2): ${ajvErrors()}`);
      }
    });

    it('every file: the JSON Schema accepts exactly what the zod schema accepts', () => {
      let accepted = 0;
      let refused = 0;
      for (const file of corpus) {
        const data = readData(readFileSync(file, 'utf8'));
        if (data === undefined) continue; // not YAML (invalid_syntax.yaml): neither schema is asked
        const zod = zodAccepts(data);
        assert.equal(validate(data), zod, `${path.relative(ROOT, file)}: zod ${zod ? 'accepts' : 'refuses'} it, the JSON Schema does not: ${ajvErrors()}`);
        if (zod) accepted++;
        else refused++;
      }
      // Both kinds are there: the agreement is not vacuous.
      assert.ok(accepted > 40 && refused >= 5, `accepted ${accepted}, refused ${refused}`);
    });
  });

  describe('invalid files are refused by both', () => {
    const HEAD = 'metadata:\n  id: t\n  name: T\n  version: "1"\n';
    const cases: Record<string, string> = {
      'missing metadata.id': 'metadata:\n  name: T\n  version: "1"\nsteps:\n  - id: a\n    skill: s\n',
      'empty metadata.id': 'metadata:\n  id: ""\n  name: T\n  version: "1"\nsteps:\n  - id: a\n    skill: s\n',
      'metadata.version a list': 'metadata:\n  id: t\n  name: T\n  version: [1]\nsteps:\n  - id: a\n    skill: s\n',
      'no steps': HEAD,
      'an empty step list': `${HEAD}steps: []\n`,
      'unknown step_type': `${HEAD}steps:\n  - id: a\n    skill: s\n    step_type: loop\n`,
      'step_type null': `${HEAD}steps:\n  - id: a\n    skill: s\n    step_type:\n`,
      'a step that is not a map': `${HEAD}steps:\n  - just text\n`,
      'a step without id': `${HEAD}steps:\n  - skill: s\n`,
      'a step id with a dot': `${HEAD}steps:\n  - id: a.b\n    skill: s\n`,
      'a step id starting with a digit': `${HEAD}steps:\n  - id: 1a\n    skill: s\n`,
      'the reserved step id __proto__': `${HEAD}steps:\n  - id: __proto__\n    skill: s\n`,
      'a sequential step without skill': `${HEAD}steps:\n  - id: a\n`,
      'an empty skill': `${HEAD}steps:\n  - id: a\n    skill: ""\n`,
      'a sequential step with branches': `${HEAD}steps:\n  - id: a\n    skill: s\n    branches:\n      steps: []\n`,
      'a step without step_type that has a condition and branches': `${HEAD}steps:\n  - id: a\n    skill: s\n    condition: x\n    branches:\n      if_true: []\n`,
      'timeout as text': `${HEAD}steps:\n  - id: a\n    skill: s\n    timeout: fast\n`,
      'timeout zero': `${HEAD}steps:\n  - id: a\n    skill: s\n    timeout: 0\n`,
      'inputs a list': `${HEAD}steps:\n  - id: a\n    skill: s\n    inputs: [1, 2]\n`,
      'inputs empty (null)': `${HEAD}steps:\n  - id: a\n    skill: s\n    inputs:\n`,
      'outputs a number': `${HEAD}steps:\n  - id: a\n    skill: s\n    outputs: 3\n`,
      'error_handling a list': `${HEAD}steps:\n  - id: a\n    skill: s\nerror_handling: [retry]\n`,
      'a parallel step without branches': `${HEAD}steps:\n  - id: p\n    step_type: parallel\n`,
      'a parallel step with an unknown branch': `${HEAD}steps:\n  - id: p\n    step_type: parallel\n    branches:\n      steps: []\n      more: []\n`,
      'a conditional step without condition': `${HEAD}steps:\n  - id: c\n    step_type: conditional\n    branches:\n      if_true:\n        - id: a\n          skill: s\n`,
      'a condition that is a boolean (yes, read as YAML 1.1)': `${HEAD}steps:\n  - id: c\n    step_type: conditional\n    condition: yes\n    branches:\n      if_true:\n        - id: a\n          skill: s\n`,
      'a conditional step with empty branches': `${HEAD}steps:\n  - id: c\n    step_type: conditional\n    condition: x\n    branches: {}\n`,
      'a conditional step with an unknown branch': `${HEAD}steps:\n  - id: c\n    step_type: conditional\n    condition: x\n    branches:\n      if_maybe: []\n`,
      'a switch without branches': `${HEAD}steps:\n  - id: w\n    step_type: switch\n    condition: x\n`,
      'a switch with empty branches': `${HEAD}steps:\n  - id: w\n    step_type: switch\n    condition: x\n    branches: {}\n`,
      'a switch branch that is not a list': `${HEAD}steps:\n  - id: w\n    step_type: switch\n    condition: x\n    branches:\n      a: text\n`,
      'a switch branch with an invalid step': `${HEAD}steps:\n  - id: w\n    step_type: switch\n    condition: x\n    branches:\n      a:\n        - id: b\n          timeout: -1\n          skill: s\n`,
      'an invalid step deep in branches': `${HEAD}steps:\n  - id: p\n    step_type: parallel\n    branches:\n      steps:\n        - id: c\n          step_type: conditional\n          condition: x\n          branches:\n            if_false:\n              - id: d\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      it(name, () => {
        assert.equal(parseDefinition(text, 'wf.yaml').ok, false, 'the loader refuses it');
        const data = readData(text);
        assert.equal(zodAccepts(data), false, 'zod refuses it');
        assert.equal(validate(data), false, 'the JSON Schema refuses it');
      });
    }
  });

  describe('valid files the schema must not refuse', () => {
    const HEAD = 'metadata:\n  id: t\n  name: T\n  version: 1.10\n';
    const cases: Record<string, string> = {
      'a step without step_type (sequential), version a number, unknown keys (ignored, as in Pallet)': `${HEAD}  owner: me\nsteps:\n  - id: a\n    skill: s\n    note: kept\n`,
      'keys such as constructor and __proto__ in inputs and switch branches': `${HEAD}steps:\n  - id: w\n    step_type: switch\n    condition: x\n    branches:\n      constructor:\n        - id: a\n          skill: s\n          inputs: { __proto__: 1, constructor: 2 }\n      __proto__: []\n`,
      'a switch with number and yes keys (read as text)': `${HEAD}steps:\n  - id: w\n    step_type: switch\n    condition: x\n    branches:\n      6:\n        - id: a\n          skill: s\n      yes: []\n`,
      'containers without skill, a conditional with one branch, an empty parallel': `${HEAD}steps:\n  - id: c\n    step_type: conditional\n    condition: x\n    branches:\n      if_false: []\n  - id: p\n    step_type: parallel\n    branches: { steps: [] }\n`,
      'timeout as YAML 1.1 base 60 (1:30 is 90)': `${HEAD}steps:\n  - id: a\n    skill: s\n    timeout: 1:30\n`,
    };
    for (const [name, text] of Object.entries(cases)) {
      it(name, () => {
        const loaded = parseDefinition(text, 'wf.yaml');
        assert.ok(loaded.ok, `the loader accepts it: ${loaded.ok ? '' : JSON.stringify(loaded.problems)}`);
        const data = readData(text);
        assert.ok(validate(data), `the JSON Schema accepts it: ${ajvErrors()}`);
      });
    }
  });
});
