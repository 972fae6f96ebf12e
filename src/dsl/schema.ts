// The zod schema of a Pallet workflow file, and the TypeScript types inferred from it. It
// accepts every file Pallet accepts (filling in Pallet's defaults) and says what each step
// type needs; validate.ts keeps only the rules a schema cannot express (unique ids,
// template references). Messages with `{step}` are completed by the loader with the step's
// type and id (`conditional step "c" needs a condition`).
import { z } from 'zod';
import { DURATION_HELP, DURATION_TEXT, durationMs, isTemplated, TIME_HELP, timeMs } from './durations';
import { AGENT_FAILURE_TYPES } from '../failure-types';
import { isPlainObject } from './plain-object';
import { STEP_TYPES, WAIT_OUTCOMES } from './step-types';

const stepId = z
  // A missing id keeps zod's own message, which the loader turns into "... is required".
  .string({ error: (issue) => (issue.input === undefined ? undefined : 'step id must be a string') })
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'step id may only contain letters, digits, "_" and "-" and must not start with a digit')
  .refine((id) => id !== '__proto__', 'step id "__proto__" is reserved')
  .describe(
    'Unique in the whole file, branches included (one id in two branches of one conditional or switch is allowed): letters, digits, "_" and "-", not starting with a digit.',
  );

const required = (what: string, type: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `{step} needs ${what}` : `${what.replace(/^an? /, '')} must be a ${type}`;
const containerRequired = (what: string, type: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `{type} {step} needs ${what}` : `${what.replace(/^an? /, '')} must be a ${type}`;

/** Fields every step has. `skill` is optional on containers: Pallet's own files omit it there. */
/**
 * A map of free-form data, taken as it is (not copied): keys such as `constructor` or
 * `__proto__` are data like any other.
 */
const notAMap = (issue: { input: unknown }) =>
  `must be a map, not ${Array.isArray(issue.input) ? 'a list' : issue.input === null ? 'null' : `a ${typeof issue.input}`}`;
const dataMap = z.custom<Record<string, unknown>>(isPlainObject, { error: notAMap });

// The descriptions (`.describe`) are for people: json-schema.ts puts them into the JSON
// Schema that editors show on hover. They change nothing the schema accepts.

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
  skill: z.string().min(1).optional().describe("The skill an agent offers. Not needed on container steps (Pallet's files give one; it is not called)."),
  inputs: dataMap
    .default({})
    .describe(
      'Map of values passed to the skill; templates such as "{{ workflow.input.x }}" and "{{ steps.<id>.outputs.x }}" are resolved at any depth. For execute_workflow: workflow_id and input.',
    ),
  /** When set, the step's result R is stored as `{ [outputs]: R }`. */
  outputs: z
    .string()
    .min(1)
    .optional()
    .describe("When set to NAME, the step's result R is stored as {NAME: R} (ignored inside conditional and switch branches, as in Pallet)."),
  /** Seconds; the start-to-close timeout of one agent call. */
  timeout: z.number().positive('timeout must be a positive number of seconds').default(300).describe('Seconds one agent call may take.'),
};

/**
 * A duration as durations.ts reads it: a number of seconds, or text such as "90s" or "1h30m"
 * (DURATION_TEXT); with `templates`, also a template or expression giving one when the step runs.
 */
const durationValue = (what: string, templates: boolean) =>
  z.union(
    [
      z.number({ error: `${what} must be ${DURATION_HELP}` }).nonnegative(`${what} must not be negative`),
      templates
        ? z
            .string({ error: `${what} must be ${DURATION_HELP}` })
            .refine((text) => isTemplated(text) || durationMs(text) !== undefined, `${what} must be ${DURATION_HELP}, or a template giving one`)
        : z.string({ error: `${what} must be ${DURATION_HELP}` }).regex(DURATION_TEXT, `${what} must be ${DURATION_HELP}`),
    ],
    { error: `${what} must be ${DURATION_HELP}` },
  );
/** A retry setting's duration, read as milliseconds at load time (recorded histories hold parsed definitions so). */
const retryDuration = (what: string) => durationValue(what, false).transform((d) => durationMs(d)!);

/** Failure types a retry policy may name: what can go wrong in an agent call (failure-types.ts). */
const failureTypeList = z.array(
  z.enum(AGENT_FAILURE_TYPES, { error: (issue) => `unknown failure type ${JSON.stringify(issue.input)} (expected one of: ${AGENT_FAILURE_TYPES.join(', ')})` }),
);

/** How a call step is retried; durations in milliseconds once parsed. `retry: N` is short for `max_attempts: N`. */
const retryMap = z.strictObject(
  {
    max_attempts: z
      .number()
      .int('max_attempts must be a whole number')
      .min(1, 'max_attempts must be 1 or more (1: no retry)')
      .optional()
      .describe("Attempts the agent's own failures may use (default 3): 1 means no retry."),
    initial_interval: retryDuration('initial_interval').optional().describe('Wait before the first retry (default 1s).'),
    maximum_interval: retryDuration('maximum_interval').optional().describe('Longest wait between retries (default 30s).'),
    backoff_coefficient: z.number().min(1).optional().describe('Each wait is this many times the last (default 2).'),
    retry_on: failureTypeList
      .optional()
      .describe('Failure types retried although they are final by default (e.g. AgentSkillError for a model that is overloaded).'),
    non_retryable: failureTypeList.optional().describe('Failure types that end the step at once (e.g. AgentTimeout).'),
    deadline: retryDuration('deadline')
      .optional()
      .describe('How long the step may take over all its attempts, crashes and outages included (default: 10 times its timeout, at least 30s).'),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown retry setting (expected: max_attempts, initial_interval, maximum_interval, backoff_coefficient, retry_on, non_retryable, deadline)`
        : 'retry must be a map of retry settings or a number of attempts',
  },
);
export const retrySchema = z
  .preprocess((raw) => (typeof raw === 'number' ? { max_attempts: raw } : raw), retryMap)
  .describe('How the step is retried when its agent fails: a map of settings, or a number of attempts.');
/** The map form of retry, for the JSON Schema (the number form is added there). */
export const retryMapSchema = retryMap;
export type RetrySettings = z.output<typeof retrySchema>;

const onlyOnCalls = (field: string) =>
  z.undefined({ error: `{type} {step} cannot have ${field}: it is a setting of call steps (inside its branches)` }).optional();

const sequentialHead = z.object({
  ...common,
  step_type: z.literal('sequential').describe('sequential (the default): call the skill of an agent, or run another workflow with skill execute_workflow.'),
  skill: z
    .string({ error: required('a skill', 'string') })
    .min(1, '{step} needs a skill')
    .describe('The skill an agent offers; execute_workflow runs the workflow named by inputs.workflow_id.'),
  branches: z.undefined({ error: 'sequential {step} cannot have branches' }).optional(),
  retry: retrySchema.optional(),
  continue_on_error: z.boolean().optional().describe('When the step fails (after its retries), store {error: {message, type, step}} as its output and go on.'),
  reply_timeout: retryDuration('reply_timeout')
    .optional()
    .describe(
      'When the agent asks for input (A2A input-required): how long to wait for `pallet reply` before the step fails (AgentTimeout). Default: no limit.',
    ),
});
const sequentialStep = sequentialHead
  .extend({
    on_error: z
      .array(z.lazy((): z.ZodType<Step> => stepSchema))
      .min(1, '{step} has an empty on_error list')
      .optional()
      .describe("Steps run when this one fails (after its retries), e.g. a second agent: the last one's result becomes this step's result."),
    compensate: z
      .array(z.lazy((): z.ZodType<Step> => stepSchema))
      .min(1, '{step} has an empty compensate list')
      .optional()
      .describe('Steps that undo this one: run, latest step first, when the run fails or is cancelled after this step finished.'),
  })
  .describe('A sequential step: one agent call (or execute_workflow).');

/** A condition: a template (or a literal string) evaluated when the step runs. */
const condition = z
  .string({ error: containerRequired('a condition', 'string') })
  .min(1, '{type} {step} needs a condition')
  .describe(
    'A template (or a literal string), resolved when the step runs. conditional: its truthiness picks if_true or if_false; switch: its value as text picks the branch.',
  );

/** The recursive parts: sub-step lists inside branches. Spelled once here for TypeScript. */
export type SequentialStep = z.infer<typeof sequentialHead> & { on_error?: Step[]; compensate?: Step[] };
export type ParallelStep = z.infer<typeof parallelHead> & { branches: { steps: Step[] } };
export type ConditionalStep = z.infer<typeof branchingHead> & { step_type: 'conditional'; branches: { if_true?: Step[]; if_false?: Step[] } };
export type SwitchStep = z.infer<typeof branchingHead> & { step_type: 'switch'; branches: Record<string, Step[]> };
export type SleepStep = z.infer<typeof sleepStep>;
export type WaitStep = z.infer<typeof waitHead> & { branches?: { approved?: Step[]; rejected?: Step[]; timed_out?: Step[] } };
export type ForEachStep = z.infer<typeof forEachHead> & { steps: Step[] };
export type RepeatStep = z.infer<typeof repeatHead> & { steps: Step[] };
export type Step = SequentialStep | ParallelStep | ConditionalStep | SwitchStep | SleepStep | WaitStep | ForEachStep | RepeatStep;

const stepList = z.array(z.lazy((): z.ZodType<Step> => stepSchema));
const nonEmpty = (branches: object) => Object.keys(branches).length > 0;
const branchesError = (what: string) => (issue: { input: unknown; code?: string }) =>
  issue.input === undefined || issue.code === 'custom' ? `{type} {step} needs ${what}` : undefined;

const callSettingsRefused = {
  retry: onlyOnCalls('retry'),
  continue_on_error: onlyOnCalls('continue_on_error'),
  on_error: onlyOnCalls('on_error'),
  compensate: onlyOnCalls('compensate'),
};
const parallelHead = z.object({
  ...common,
  ...callSettingsRefused,
  step_type: z.literal('parallel').describe('parallel: run the steps of branches.steps at once.'),
});
const parallelStep = parallelHead
  .extend({
    branches: z
      .strictObject(
        {
          steps: z
            .array(
              z.lazy((): z.ZodType<Step> => stepSchema),
              { error: branchesError('branches.steps (the steps to run in parallel)') },
            )
            .describe('The steps to run in parallel; each sees only what ran before the parallel step.'),
        },
        {
          error: (issue) =>
            issue.code === 'unrecognized_keys'
              ? 'parallel {step} has unknown branch {key} (expected: steps)'
              : branchesError('branches.steps (the steps to run in parallel)')(issue),
        },
      )
      .describe('{steps: [...]}: the steps to run at once.'),
  })
  .describe('A parallel step: its branches.steps run at once.');

const branchingHead = z.object({ ...common, ...callSettingsRefused, condition });
const conditionalStep = branchingHead
  .extend({
    step_type: z.literal('conditional').describe("conditional: run if_true when the condition is truthy (Python's truthiness), else if_false."),
    branches: z
      .strictObject(
        {
          if_true: stepList.optional().describe('Steps run when the condition is truthy.'),
          if_false: stepList.optional().describe('Steps run when the condition is falsy (null, false, 0, "", [], {}).'),
        },
        {
          error: (issue) =>
            issue.code === 'unrecognized_keys' ? 'conditional {step} has unknown branch {key} (expected: if_true, if_false)' : branchesError('branches')(issue),
        },
      )
      .refine(nonEmpty, { error: '{type} {step} needs branches' })
      .describe('if_true and/or if_false; a missing branch runs nothing.'),
  })
  .describe('A conditional step: if_true or if_false, by the condition.');
const switchStep = branchingHead
  .extend({
    step_type: z.literal('switch').describe("switch: run the branch named by the condition's value, else branches.default."),
    branches: keyedMap(stepList, (issue) => (issue.input === undefined ? '{type} {step} needs branches' : notAMap(issue)))
      .refine(nonEmpty, { error: '{type} {step} needs branches' })
      .describe(
        'Value → steps: the branch whose name is the condition\'s value as Python\'s str() writes it ("6", "True", "None") runs; when it is missing or empty, "default" runs.',
      ),
  })
  .describe('A switch step: one branch by the value of the condition.');

// ---- Waiting: sleep and wait steps (not in Pallet) -------------------------------------

/** A duration: seconds as a number, text such as "90s" or "1h30m", or a template giving one when the step runs. */
const waitDuration = (what: string) => durationValue(what, true);
/** Fields of call steps that a sleep or wait step does not have. */
const noCallFields = {
  skill: z.undefined({ error: '{type} {step} calls no agent: it has no skill' }).optional().describe('Not allowed: this step calls no agent.'),
  inputs: z.undefined({ error: '{type} {step} calls no agent: it has no inputs' }).optional().describe('Not allowed: this step calls no agent.'),
  outputs: z
    .undefined({ error: '{type} {step} cannot have outputs' })
    .optional()
    .describe("Not allowed: a wait step's output is {outcome, data, by}; a sleep step has none."),
  ...callSettingsRefused,
};

const sleepStep = z
  .object({
    id: stepId,
    step_type: z.literal('sleep').describe('sleep: wait for a duration, or until a point in time (a durable Temporal timer; a worker may stop meanwhile).'),
    duration: waitDuration('duration')
      .optional()
      .describe(`How long to wait: ${DURATION_HELP}; a template or expression giving one is resolved when the step runs.`),
    until: z
      .string({ error: `until must be ${TIME_HELP}` })
      .refine((text) => isTemplated(text) || timeMs(text) !== undefined, `until must be ${TIME_HELP}, or a template giving one`)
      .optional()
      .describe(`When to go on: ${TIME_HELP}; a time already past does not wait. A template or expression giving one is resolved when the step runs.`),
    ...noCallFields,
    branches: z.undefined({ error: 'sleep {step} cannot have branches' }).optional(),
    timeout: z.undefined({ error: 'sleep {step} has no timeout: give its duration or until' }).optional().describe('Not allowed: give duration or until.'),
  })
  .superRefine((step, ctx) => {
    const has = (key: 'duration' | 'until') => step[key] !== undefined;
    if (!has('duration') && !has('until')) ctx.addIssue({ code: 'custom', message: 'sleep {step} needs a duration or an until time', path: [] });
    if (has('duration') && has('until')) ctx.addIssue({ code: 'custom', message: 'sleep {step} has both duration and until: give one', path: ['until'] });
  })
  .describe('A sleep step: the run waits for a duration or until a time, then goes on. It records no output.');

const waitHead = z.object({
  id: stepId,
  step_type: z.literal('wait').describe("wait: wait for a named event, such as a person's approval (`pallet approve`), then run the branch of its outcome."),
  event: z
    .string({ error: 'event must be a string' })
    .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'event may only contain letters, digits, "_", "-", "." and ":" and must not start with a digit')
    .optional()
    .describe('The name the event is sent under (`pallet approve RUN NAME`); default: the step id.'),
  timeout: waitDuration('timeout')
    .optional()
    .describe(`How long to wait for the event (${DURATION_HELP}, or a template giving one); then the outcome is timed_out. Default: no limit.`),
  ...noCallFields,
});
const waitStep = waitHead
  .extend({
    branches: z
      .strictObject(
        {
          approved: stepList.optional().describe('Steps run when the event approves.'),
          rejected: stepList.optional().describe('Steps run when the event rejects.'),
          timed_out: stepList.optional().describe('Steps run when no event came within the timeout.'),
        },
        {
          error: (issue) =>
            issue.code === 'unrecognized_keys'
              ? `wait {step} has unknown branch {key} (expected: ${WAIT_OUTCOMES.join(', ')})`
              : 'branches must be a map of approved, rejected and timed_out',
        },
      )
      .optional()
      .describe('One list of steps per outcome: approved, rejected, timed_out; a missing one runs nothing.'),
  })
  .describe('A wait step: waits for an event (`pallet approve`), records {outcome, data, by} as its output and runs the branch of its outcome.');

// ---- Loops: for_each (not in Pallet) ----------------------------------------------------

/** Iterations of a for_each step running at once at most. */
export const MAX_FOR_EACH_CONCURRENCY = 500;

const forEachHead = z.object({
  ...common,
  ...callSettingsRefused,
  step_type: z
    .literal('for_each')
    .describe(
      "for_each: run `steps` once per item of `items`, at most `concurrency` at a time; the output is the list of each iteration's last step output, in item order.",
    ),
  items: z
    .union([z.string().min(1), z.array(z.unknown())], { error: 'items must be a list, or a template or expression giving one' })
    .describe('The items: a list, or a template ("{{ steps.plan.outputs.files }}") or expression ("${{ ... }}") giving one.'),
  concurrency: z
    .number()
    .int('concurrency must be a whole number')
    .min(1, 'concurrency must be 1 or more')
    .max(MAX_FOR_EACH_CONCURRENCY, `concurrency is at most ${MAX_FOR_EACH_CONCURRENCY}`)
    .default(1)
    .describe(`Items run at once at most (default 1: one after another; at most ${MAX_FOR_EACH_CONCURRENCY}).`),
  branches: z.undefined({ error: 'for_each {step} has no branches: its body is `steps`' }).optional(),
});
const forEachStep = forEachHead
  .extend({
    steps: z
      .array(
        z.lazy((): z.ZodType<Step> => stepSchema),
        { error: (issue) => (issue.input === undefined ? 'for_each {step} needs steps (its body)' : 'steps must be a list of steps') },
      )
      .min(1, 'for_each {step} needs steps (its body)')
      .describe("The body: steps run for each item, one after another. They see `item`, `index` and each other's outputs of the same iteration."),
  })
  .describe('A for_each step: runs its steps once per item (map); a later step can reduce the list it outputs.');

/** Iterations of a repeat step at most. */
export const MAX_REPEAT_ITERATIONS = 1000;

const repeatHead = z.object({
  ...common,
  ...callSettingsRefused,
  step_type: z.literal('repeat').describe('repeat: run `steps` again and again until `until` is true after an iteration, at most `max_iterations` times.'),
  until: z
    .string({
      error: (issue) => (issue.input === undefined ? 'repeat {step} needs until (a condition checked after each iteration)' : 'until must be a string'),
    })
    .min(1, 'repeat {step} needs until (a condition checked after each iteration)')
    .describe("A template or expression checked after each iteration, seeing its steps' outputs; truthy ends the loop."),
  max_iterations: z
    .number({ error: (issue) => (issue.input === undefined ? 'repeat {step} needs max_iterations (it must end)' : 'max_iterations must be a number') })
    .int('max_iterations must be a whole number')
    .min(1, 'max_iterations must be 1 or more')
    .max(MAX_REPEAT_ITERATIONS, `max_iterations is at most ${MAX_REPEAT_ITERATIONS}`)
    .describe(`Iterations at most (up to ${MAX_REPEAT_ITERATIONS}); after the last the run goes on with until_met false.`),
  branches: z.undefined({ error: 'repeat {step} has no branches: its body is `steps`' }).optional(),
});
const repeatStep = repeatHead
  .extend({
    steps: z
      .array(
        z.lazy((): z.ZodType<Step> => stepSchema),
        { error: (issue) => (issue.input === undefined ? 'repeat {step} needs steps (its body)' : 'steps must be a list of steps') },
      )
      .min(1, 'repeat {step} needs steps (its body)')
      .describe("The body, run once per iteration. Its steps see the previous iteration's outputs until they run again, and `index`."),
  })
  .describe('A repeat step: runs its steps until a condition holds (at most max_iterations times); its output is {result, iterations, until_met}.');

const stepUnion = z.discriminatedUnion('step_type', [sequentialStep, parallelStep, conditionalStep, switchStep, sleepStep, waitStep, forEachStep, repeatStep], {
  error: (issue) => {
    const step = issue.input as { step_type?: unknown } | undefined;
    return `unknown step_type ${JSON.stringify(step?.step_type)} in {step} (expected one of: ${STEP_TYPES.join(', ')})`;
  },
});

/** A step; `step_type` defaults to `sequential`, as in Pallet. */
export const stepSchema: z.ZodType<Step, unknown> = z
  .preprocess((raw) => (isPlainObject(raw) && raw.step_type === undefined ? { ...raw, step_type: 'sequential' } : raw), stepUnion)
  .describe('A step. step_type (default sequential) says which fields it needs.');

/**
 * `metadata.schedule`: `pallet push` has the workflow run on a Temporal Schedule (docs/schedules.md).
 * Never read by a run: results do not change. Not in Pallet, which ignores it.
 */
const scheduleSchema = z
  .strictObject({
    cron: z.string().min(1).optional().describe('When to run, as cron: "0 9 * * MON-FRI" (UTC unless CRON_TZ=<zone> comes first), @daily, @hourly.'),
    every: durationValue('every', false)
      .refine((d) => durationMs(d)! >= 1000 && durationMs(d)! % 1000 === 0, 'every must be whole seconds, at least 1s')
      .optional()
      .describe(`Run at this interval: ${DURATION_HELP} (whole seconds, at least 1s).`),
    input: dataMap.optional().describe('The input of every scheduled run.'),
    overlap: z
      .enum(['skip', 'buffer', 'allow'], { error: 'overlap must be one of skip, buffer, allow' })
      .optional()
      .describe('When a run is due while the last one still runs: skip it (default), buffer one, or allow both.'),
  })
  .refine((s) => (s.cron === undefined) !== (s.every === undefined), 'give exactly one of cron and every')
  .describe('Run this workflow on a schedule: `pallet push` creates (or updates) a Temporal Schedule whose id is the workflow id.');

export const metadataSchema = z
  .object({
    id: z.string().min(1).describe('The workflow id, e.g. code-generation-v1, as `pallet run --workflow` names it (a -vN ending is the registry tag).'),
    name: z.string().min(1).describe('Human-readable name.'),
    version: z.union([z.string(), z.number()]).transform(String).describe('Version; a YAML number is read as the text written (1.10 stays "1.10").'),
    description: z.string().default('').describe('What the workflow does.'),
    tags: z.array(z.string()).default([]).describe('Free-form tags.'),
    input_schema: z
      .record(z.string(), z.unknown(), { error: 'input_schema must be a map: a JSON Schema of the workflow input' })
      .optional()
      .describe(
        'JSON Schema of the workflow input (workflow.input): `pallet run` checks input against it, `pallet serve` gives it to MCP callers. Not in Pallet, which ignores it.',
      ),
    schedule: scheduleSchema.optional(),
  })
  .describe('What the workflow is: id, name, version.');

/**
 * Workflow-wide defaults for call steps. Free-form in Pallet (never read by its engine): keys
 * other than these are kept and not read (lint warns about them).
 */
export const errorHandlingSchema = z
  .custom<Record<string, unknown>>(isPlainObject, { error: notAMap })
  .pipe(
    z.looseObject({
      retry: retrySchema
        .optional()
        .describe("The retry settings of every call step that gives none of its own (a step's own settings override these one by one)."),
      continue_on_error: z.boolean().optional().describe('The continue_on_error of every call step that does not set it.'),
    }),
  )
  .describe('Defaults for every call step: retry and continue_on_error. Other keys are kept and not read (Pallet reads none).');
export type ErrorHandling = z.output<typeof errorHandlingSchema>;

export const definitionSchema = z
  .object({
    metadata: metadataSchema,
    steps: z.array(stepSchema).describe('The steps, run one after another (at least one).'),
    /** Free-form in Pallet and never read by its engine; kept for round-tripping. */
    error_handling: errorHandlingSchema.optional(),
  })
  .describe('A Pallet workflow: metadata and the steps to run.');

export type WorkflowMetadata = z.infer<typeof metadataSchema>;
export type WorkflowDefinition = z.infer<typeof definitionSchema>;
