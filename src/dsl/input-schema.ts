// A workflow's declared input: `metadata.input_schema`, a JSON Schema of `workflow.input`.
// The loader refuses a schema that does not compile, lint warns about what it would not
// check, `pallet run` and `pallet serve` check input against it. Pallet has no such field
// (it ignores it), so files without one run unchanged. Never imported by the workflow
// sandbox: ajv compiles validators to code.
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import { isPlainObject } from './templates';
import type { FieldPath } from './step-kinds';

/** A problem at a field of the definition (validate.ts's Problem). */
export interface SchemaProblem {
  path: FieldPath;
  message: string;
}

export type InputSchema = Record<string, unknown>;

const SCHEMA_PATH: FieldPath = ['metadata', 'input_schema'];

// Formats (email, date-time, ...) are not checked: ajv's format vocabulary is a separate package.
const LAX: Options = { strict: false, allErrors: true, validateFormats: false, logger: false };

/** The ajv for the draft the schema names in `$schema` (draft-07 when it names none). */
function ajvFor(schema: InputSchema, options: Options): Ajv {
  const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (draft.includes('2020-12')) return new Ajv2020(options);
  if (draft.includes('2019-09')) return new Ajv2019(options);
  return new Ajv(options);
}

/** Compiled validators by schema text: `pallet serve` checks every call against the same few schemas. */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 100;

function compile(schema: InputSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajvFor(schema, LAX).compile(schema);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
  }
  return validate;
}

/** Errors: `metadata.input_schema` that is not a JSON Schema ajv can compile. */
export function inputSchemaProblems(metadata: unknown): SchemaProblem[] {
  const schema = isPlainObject(metadata) ? metadata.input_schema : undefined;
  if (!isPlainObject(schema)) return []; // absent, or not a map: the schema says so
  try {
    compile(schema);
    return [];
  } catch (err) {
    return [{ path: SCHEMA_PATH, message: `metadata.input_schema is not a valid JSON Schema: ${(err as Error).message}` }];
  }
}

/**
 * Warnings: keywords no draft knows (a typo such as `requird` checks nothing), and `default`
 * or `examples` values that the schema itself refuses.
 */
export function adviseInputSchema(metadata: { input_schema?: InputSchema }): SchemaProblem[] {
  const schema = metadata.input_schema;
  if (!schema) return [];
  const advice: SchemaProblem[] = [];
  try {
    ajvFor(schema, { ...LAX, strict: true, strictTypes: false, strictTuples: false, strictRequired: false }).compile(schema);
  } catch (err) {
    advice.push({ path: SCHEMA_PATH, message: `metadata.input_schema: ${(err as Error).message} (it is not checked)` });
  }
  const type = schema.type;
  if (type !== undefined && type !== 'object' && !(Array.isArray(type) && type.includes('object'))) {
    advice.push({
      path: [...SCHEMA_PATH, 'type'],
      message: `metadata.input_schema: type ${JSON.stringify(type)} can never fit: a workflow input is always an object (type: object)`,
    });
  }
  const samples: [FieldPath, unknown][] = [];
  if ('default' in schema) samples.push([[...SCHEMA_PATH, 'default'], schema.default]);
  if (Array.isArray(schema.examples)) schema.examples.forEach((example, i) => samples.push([[...SCHEMA_PATH, 'examples', i], example]));
  for (const [path, sample] of samples) {
    const refused = inputErrors(schema, sample);
    if (refused.length > 0)
      advice.push({
        path,
        message: `metadata.input_schema: this ${path.includes('default') ? 'default' : 'example'} does not fit the schema: ${refused.join('; ')}`,
      });
  }
  return advice;
}

/** Why `input` does not fit the schema, one line per problem naming the field (`input.requirements`); empty when it fits. */
export function inputErrors(schema: InputSchema, input: unknown): string[] {
  const validate = compile(schema);
  if (validate(input)) return [];
  return [...new Set((validate.errors ?? []).map(describeError))];
}

/** Throws an error naming the workflow and every field that does not fit its declared input. */
export function checkInput(metadata: { id: string; input_schema?: InputSchema }, input: unknown): void {
  if (!metadata.input_schema) return;
  const errors = inputErrors(metadata.input_schema, input);
  if (errors.length > 0) throw new InputError(metadata.id, errors);
}

export class InputError extends Error {
  constructor(
    readonly workflow: string,
    readonly errors: string[],
  ) {
    super(`the input does not fit ${workflow}'s metadata.input_schema: ${errors.join('; ')}`);
    this.name = 'InputError';
  }
}

/** `input.a[0].b must be string`, from ajv's JSON Pointer and message. */
function describeError(error: ErrorObject): string {
  let field = 'input';
  for (const segment of error.instancePath.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(key) ? `[${key}]` : /^[A-Za-z_][\w-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  if (error.keyword === 'required' && params.missingProperty) return `${field}.${params.missingProperty} is required`;
  if (error.keyword === 'additionalProperties' && params.additionalProperty) return `${field}.${params.additionalProperty} is not allowed`;
  if (error.keyword === 'enum' && params.allowedValues) return `${field} must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${field} ${error.message ?? 'is not valid'}`;
}
