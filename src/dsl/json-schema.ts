// The JSON Schema of a Pallet workflow file, generated from the zod schema (schema.ts) for
// editors: `npm run schema` writes it to pallet-workflow.schema.json, which YAML files name
// with `# yaml-language-server: $schema=...` (docs/editor.md).
//
// Draft-07, the newest draft the YAML language server (VS Code's YAML extension) supports in
// full. The schema describes what a file looks like before zod fills in defaults (io:
// 'input'), and the parts of schema.ts that zod cannot convert are written here by hand,
// each attached to the zod schema it stands for:
//   - a step without step_type is a sequential step (schema.ts's preprocess), and a
//     sequential step has no branches;
//   - free-form maps (inputs, error_handling) and switch branches (a map of step lists that
//     keeps keys such as `constructor`) are z.custom checks;
//   - refinements: the reserved step id `__proto__`, branches that must not be empty, a sleep
//     step's duration or until (one of them; their text as patterns);
//   - the loader's "at least one step" (validate.ts) is stated too, since editors should say it.
// What no JSON Schema can say (unique ids, template references) stays with `pallet lint`.
// test/unit/dsl/json-schema.test.ts checks that zod and this schema agree on every example,
// fixture and differential-test file, and on invalid files.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DURATION_TEXT } from './durations';
import { STEP_TYPES } from './step-types';
import { definitionSchema, retryMapSchema, retrySchema } from './schema';

export const JSON_SCHEMA_FILE = 'pallet-workflow.schema.json';
export const JSON_SCHEMA_ID = 'urn:pallet-temporal:pallet-workflow.schema.json';

type Json = Record<string, unknown>;
type AnySchema = z.core.$ZodType;

/** The definition of a zod schema (the few fields read here). */
function defOf(schema: AnySchema): {
  type: string;
  shape?: Record<string, AnySchema>;
  options?: AnySchema[];
  innerType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  element?: AnySchema;
} {
  return schema._zod.def as ReturnType<typeof defOf>;
}

/** Follows `default` and `optional` wrappers to the schema they wrap. */
function unwrap(schema: AnySchema): AnySchema {
  const def = defOf(schema);
  return (def.type === 'default' || def.type === 'optional') && def.innerType ? unwrap(def.innerType) : schema;
}

function field(object: AnySchema, key: string): AnySchema {
  const shape = defOf(object).shape;
  if (!shape?.[key]) throw new Error(`json-schema: schema.ts changed: no field "${key}"`);
  return shape[key];
}

/** The zod schemas of schema.ts that need a hand-written part, found from definitionSchema. */
function landmarks() {
  const step = defOf(definitionSchema.shape.steps).element!;
  const union = defOf(step).out!;
  const options = defOf(union).options ?? [];
  const byType = Object.fromEntries(options.map((o) => [String((defOf(field(o, 'step_type')) as { values?: unknown[] }).values?.[0]), o]));
  if (STEP_TYPES.some((t) => !byType[t]) || options.length !== STEP_TYPES.length) throw new Error('json-schema: schema.ts changed: step types');
  const sequential = byType.sequential;
  return {
    step,
    sequential,
    stepId: field(sequential, 'id'),
    dataMaps: new Set([unwrap(field(sequential, 'inputs')), unwrap(definitionSchema.shape.error_handling)]),
    conditionalBranches: field(byType.conditional, 'branches'),
    sleep: byType.sleep,
    // The text forms of durations and times: schema.ts checks them with a refinement (templates allowed).
    durationTexts: new Set([unwrap(field(byType.sleep, 'duration')), unwrap(field(byType.wait, 'timeout'))].map((union) => defOf(union).options![1])),
    timeText: unwrap(field(byType.sleep, 'until')),
    switchBranches: field(byType.switch, 'branches'),
  };
}

/** A duration's text ("90s", "1h30m", "90": durations.ts's one grammar) or a template or expression. */
const DURATION_PATTERN = `${DURATION_TEXT.source}|\\{\\{`;
/** An RFC 3339 time, or a template or expression (durations.ts). */
const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$|\\{\\{';

const STEP_DEF = 'Step';
const STEP_REF = `#/definitions/${STEP_DEF}`;

/** The JSON Schema (draft-07) of a Pallet workflow file. */
export function workflowJsonSchema(): Json {
  const marks = landmarks();
  const generated = z.toJSONSchema(definitionSchema, {
    target: 'draft-7',
    io: 'input',
    // The customs and the preprocess are completed by `override`; anything else unrepresentable would accept anything, which json-schema.test.ts refuses.
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const json = jsonSchema as Json;
      const def = (zodSchema as unknown as { _zod: { def: { type: string; innerType?: { _zod: { def: { type: string } } } } } })._zod.def;
      if (def.type === 'unknown') {
        // Any JSON value (a for_each step's items).
        Object.assign(json, { anyOf: ['string', 'number', 'boolean', 'object', 'array', 'null'].map((type) => ({ type })) });
      } else if (def.type === 'optional' && def.innerType?._zod.def.type === 'undefined') {
        // A field a step type must not have (e.g. retry on a container).
        Object.assign(json, { not: {} });
      } else if (zodSchema === retrySchema) {
        // schema.ts's preprocess reads a number N as max_attempts N.
        const { $schema: _drop, ...map } = z.toJSONSchema(retryMapSchema, { target: 'draft-7', io: 'input' }) as Json;
        void _drop;
        const description = json.description;
        for (const key of Object.keys(json)) delete json[key];
        Object.assign(json, { description, anyOf: [{ type: 'integer', minimum: 1, description: 'A number of attempts (max_attempts).' }, map] });
      } else if (zodSchema === marks.step) {
        // Said once for every step type, so that an editor names the allowed step types and the missing id plainly.
        Object.assign(json, { type: 'object', required: ['id'], properties: { step_type: { enum: [...STEP_TYPES] } } });
      } else if (zodSchema === marks.stepId) {
        json.not = { const: '__proto__' };
      } else if (marks.dataMaps.has(zodSchema)) {
        json.type = 'object';
      } else if (zodSchema === marks.sequential) {
        // schema.ts's preprocess fills in step_type: sequential.
        json.required = (json.required as string[]).filter((k) => k !== 'step_type');
        (json.properties as Record<string, Json>).step_type.default = 'sequential';
        (json.properties as Record<string, unknown>).branches = { not: {}, description: 'A sequential step has no branches.' };
      } else if (zodSchema === marks.sleep) {
        // A sleep step has exactly one of duration and until (schema.ts's superRefine).
        // (Each alternative repeats its property: strict validators want a required key defined beside it.)
        const properties = json.properties as Record<string, Json>;
        json.oneOf = ['duration', 'until'].map((key) => ({ required: [key], properties: { [key]: properties[key] } }));
      } else if (marks.durationTexts.has(zodSchema)) {
        json.pattern = DURATION_PATTERN;
      } else if (zodSchema === marks.timeText) {
        json.pattern = TIME_PATTERN;
      } else if (zodSchema === marks.conditionalBranches) {
        json.minProperties = 1;
      } else if (zodSchema === marks.switchBranches) {
        Object.assign(json, { type: 'object', minProperties: 1, additionalProperties: { type: 'array', items: { $ref: STEP_REF } } });
      }
    },
  }) as Json;

  // zod names the recursive step schema `__schema0`: give it a name, and write its references plainly.
  const definitions = generated.definitions as Record<string, Json>;
  const names = Object.keys(definitions ?? {});
  if (names.length !== 1) throw new Error(`json-schema: expected one definition (the step), got ${names.join(', ')}`);
  const stepRef = `#/definitions/${names[0]}`;
  const tidy = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(tidy);
    if (typeof node !== 'object' || node === null) return node;
    const entries = Object.entries(node as Json);
    // draft-07 ignores siblings of $ref, so zod wraps a lone reference in allOf: unwrap it.
    if (entries.length === 1 && entries[0][0] === 'allOf' && Array.isArray(entries[0][1]) && entries[0][1].length === 1) return tidy(entries[0][1][0]);
    return Object.fromEntries(entries.map(([k, v]) => [k, k === '$ref' && v === stepRef ? STEP_REF : tidy(v)]));
  };
  const { $schema, ...root } = tidy(generated) as Json;
  delete root.definitions;
  const steps = (root.properties as Record<string, Json>).steps;
  steps.minItems = 1;
  return {
    $schema,
    $id: JSON_SCHEMA_ID,
    title: 'Pallet workflow',
    ...root,
    definitions: { [STEP_DEF]: tidy(definitions[names[0]]) },
  };
}

/** The file's text: what `npm run schema` writes and the test compares with the committed file. */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
}

/** `npm run schema` (through ts-node, from src/dsl/): writes the schema next to package.json. */
export function writeWorkflowJsonSchema(file = path.resolve(__dirname, '..', '..', JSON_SCHEMA_FILE)): string {
  writeFileSync(file, workflowJsonSchemaText());
  return file;
}

if (require.main === module) console.log(`wrote ${path.relative(process.cwd(), writeWorkflowJsonSchema())}`);
