// The zod schema of a Pallet workflow file, and the TypeScript types inferred from it. It
// accepts every file Pallet accepts (filling in Pallet's defaults) and says what each step
// type needs; validate.ts keeps only the rules a schema cannot express (unique ids,
// template references). Messages with `{step}` are completed by the loader with the step's
// type and id (`conditional step "c" needs a condition`).
import { z } from 'zod';
import { isPlainObject } from './templates';
import { STEP_TYPES } from './types';

const stepId = z
  // A missing id keeps zod's own message, which the loader turns into "... is required".
  .string({ error: (issue) => (issue.input === undefined ? undefined : 'step id must be a string') })
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'step id may only contain letters, digits, "_" and "-" and must not start with a digit')
  .refine((id) => id !== '__proto__', 'step id "__proto__" is reserved');

const required = (what: string, type: string) => (issue: { input: unknown }) => (issue.input === undefined ? `{step} needs ${what}` : `${what.replace(/^an? /, '')} must be a ${type}`);
const containerRequired = (what: string, type: string) => (issue: { input: unknown }) => (issue.input === undefined ? `{type} {step} needs ${what}` : `${what.replace(/^an? /, '')} must be a ${type}`);

/** Fields every step has. `skill` is optional on containers: Pallet's own files omit it there. */
/**
 * A map of free-form data, taken as it is (not copied): keys such as `constructor` or
 * `__proto__` are data like any other.
 */
const notAMap = (issue: { input: unknown }) => `must be a map, not ${Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'null' : `a ${typeof issue.input}`}`;
const dataMap = z.custom<Record<string, unknown>>(isPlainObject, { error: notAMap });

/**
 * A map whose values each follow `value`, keeping every key (zod's record would drop
 * `__proto__` and trip over `constructor`).
 */
function keyedMap<T extends z.ZodType>(value: T, error: (issue: { input: unknown; code?: string }) => string | undefined) {
  return z.custom<Record<string, unknown>>(isPlainObject, { error }).transform((map, ctx) => {
    const entries: [string, z.output<T>][] = [];
    for (const [key, item] of Object.entries(map)) {
      const parsed = value.safeParse(item);
      if (parsed.success) entries.push([key, parsed.data]);
      else for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, path: [key, ...issue.path], input: item } as (typeof ctx.issues)[number]);
    }
    return Object.fromEntries(entries) as Record<string, z.output<T>>;
  });
}

const common = {
  id: stepId,
  skill: z.string().min(1).optional(),
  inputs: dataMap.default({}),
  /** When set, the step's result R is stored as `{ [outputs]: R }`. */
  outputs: z.string().min(1).optional(),
  /** Seconds; the start-to-close timeout of one agent call. */
  timeout: z.number().positive('timeout must be a positive number of seconds').default(300),
};

const sequentialStep = z.object({
  ...common,
  step_type: z.literal('sequential'),
  skill: z.string({ error: required('a skill', 'string') }).min(1, '{step} needs a skill'),
  branches: z.undefined({ error: 'sequential {step} cannot have branches' }).optional(),
});

/** A condition: a template (or a literal string) evaluated when the step runs. */
const condition = z.string({ error: containerRequired('a condition', 'string') }).min(1, '{type} {step} needs a condition');

/** The recursive parts: sub-step lists inside branches. Spelled once here for TypeScript. */
export type SequentialStep = z.infer<typeof sequentialStep>;
export type ParallelStep = z.infer<typeof parallelHead> & { branches: { steps: Step[] } };
export type ConditionalStep = z.infer<typeof branchingHead> & { step_type: 'conditional'; branches: { if_true?: Step[]; if_false?: Step[] } };
export type SwitchStep = z.infer<typeof branchingHead> & { step_type: 'switch'; branches: Record<string, Step[]> };
export type Step = SequentialStep | ParallelStep | ConditionalStep | SwitchStep;

const stepList = z.array(z.lazy((): z.ZodType<Step> => stepSchema));
const nonEmpty = (branches: object) => Object.keys(branches).length > 0;
const branchesError = (what: string) => (issue: { input: unknown; code?: string }) =>
  issue.input === undefined || issue.code === 'custom' ? `{type} {step} needs ${what}` : undefined;

const parallelHead = z.object({ ...common, step_type: z.literal('parallel') });
const parallelStep = parallelHead.extend({
  branches: z.strictObject(
    { steps: z.array(z.lazy((): z.ZodType<Step> => stepSchema), { error: branchesError('branches.steps (the steps to run in parallel)') }) },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? 'parallel {step} has unknown branch {key} (expected: steps)' : branchesError('branches.steps (the steps to run in parallel)')(issue)) },
  ),
});

const branchingHead = z.object({ ...common, condition });
const conditionalStep = branchingHead.extend({
  step_type: z.literal('conditional'),
  branches: z
    .strictObject(
      { if_true: stepList.optional(), if_false: stepList.optional() },
      { error: (issue) => (issue.code === 'unrecognized_keys' ? 'conditional {step} has unknown branch {key} (expected: if_true, if_false)' : branchesError('branches')(issue)) },
    )
    .refine(nonEmpty, { error: '{type} {step} needs branches' }),
});
const switchStep = branchingHead.extend({
  step_type: z.literal('switch'),
  branches: keyedMap(stepList, (issue) => (issue.input === undefined ? '{type} {step} needs branches' : notAMap(issue))).refine(nonEmpty, { error: '{type} {step} needs branches' }),
});

const stepUnion = z.discriminatedUnion('step_type', [sequentialStep, parallelStep, conditionalStep, switchStep], {
  error: (issue) => {
    const step = issue.input as { step_type?: unknown } | undefined;
    return `unknown step_type ${JSON.stringify(step?.step_type)} in {step} (expected one of: ${STEP_TYPES.join(', ')})`;
  },
});

/** A step; `step_type` defaults to `sequential`, as in Pallet. */
export const stepSchema: z.ZodType<Step, unknown> = z.preprocess(
  (raw) => (isPlainObject(raw) && raw.step_type === undefined ? { ...raw, step_type: 'sequential' } : raw),
  stepUnion,
);


export const metadataSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  version: z.union([z.string(), z.number()]).transform(String),
  description: z.string().default(''),
  tags: z.array(z.string()).default([]),
});

export const definitionSchema = z.object({
  metadata: metadataSchema,
  steps: z.array(stepSchema),
  /** Free-form in Pallet and never read by its engine; kept for round-tripping. */
  error_handling: dataMap.optional(),
});

export type WorkflowMetadata = z.infer<typeof metadataSchema>;
export type WorkflowDefinition = z.infer<typeof definitionSchema>;
