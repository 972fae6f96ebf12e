// The interpreter workflow: one generic Temporal workflow type that runs any Pallet
// definition. It wires the step walker to Temporal: agent calls are activities, nested
// workflows are child workflows, parallel branches share a cancellation scope.
// Sandbox code: no I/O, clocks or randomness here; see eslint.config.mjs.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  ContinueAsNew,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy, SearchAttributeUpdatePair } from '@temporalio/common';
import type { AgentRetry, CallAgentReply, CallAgentRequest, PalletActivities } from '../activities/contract';
import { showDuration } from '../dsl/durations';
import {
  FailureTypes,
  isStateRef,
  oversizedPayload,
  PalletSearchAttributes,
  stateQuery,
  type ClaimRef,
  type PalletStatus,
  type PalletWorkflowInput,
  type RunState,
  type StateSegment,
} from '../contract';
import { MAX_PAYLOAD_BYTES, type RetrySettings, type RunResult, type SequentialStep, type Step, type WorkflowDefinition } from '../dsl/types';
import { continueRun, Generation, GenerationEnd, MAX_HISTORY_EVENTS, nextGeneration } from './generations';
import { CallGate, checkPayload } from './limits';
import { BATCHED_PARALLEL, BATCHES_IN_LOOPS, PALLET_SEARCH_ATTRIBUTES, PIN_CHILD_DEFINITIONS, STATE_BY_REFERENCE, WAIT_FOR_CANCELLED_CALLS } from './patches';
import { addSegments, outputsRead } from './state';
import { progressText } from './progress';
import { Questions } from './questions';
import { Waits } from './waits';
import {
  agentActivityId,
  batchWorkflowId,
  callId,
  callsOfRun,
  childWorkflowId,
  LOAD_DEFINITION_ACTIVITY,
  offersForSteps,
  pinActivityId,
  writtenStepId,
  replyActivityId,
} from '../history/ids';
import type { BranchBatch } from './steps/types';
import { WorkflowRun, type StepEffects } from './walker';

export type { PalletWorkflowInput } from '../contract';

/**
 * Agent calls are retried until the step's deadline: a worker crash, a lost heartbeat or an
 * agent that cannot be reached is waited out. The agent's own failures (HTTP 5xx, no answer
 * within the step's timeout) end the step after MAX_AGENT_FAILURES, counted by the activity;
 * the rest (a JSON-RPC error, 4xx, bad replies) end it at once.
 */
export const AGENT_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } as const;
/** A worker that dies mid-call is noticed after this long, not after the whole step timeout. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;
/** Loading a definition is retried (a registry outage) for this long before the run fails. */
const DEFINITION_LOAD_DEADLINE = '10m';
/** A step's deadline, all attempts together: ten times its timeout, at least 30 s. */
export function stepDeadlineMs(timeoutSeconds: number): number {
  return Math.max(10 * timeoutSeconds * 1000, 30_000);
}

const activities = proxyActivities<PalletActivities>({
  startToCloseTimeout: '300s',
  retry: AGENT_RETRY,
});

export async function palletWorkflow(args: PalletWorkflowInput): Promise<RunResult> {
  // Search attributes only when the client said the namespace has them: upserting one it
  // lacks fails the workflow task, again and again.
  if (!args.searchAttributes) return interpret(args);
  try {
    const result = await interpret(args);
    upsertStatus(args, 'completed');
    return result;
  } catch (err) {
    // A run that goes on in a new history is neither failed nor done.
    if (!(err instanceof ContinueAsNew)) upsertStatus(args, CancellationScope.current().consideredCancelled ? 'cancelled' : 'failed');
    throw err;
  }
}

/**
 * Upserts Pallet's search attributes (contract.ts) when the run was told they exist: once when
 * the definition is known, once at the end. Gated by a patch, so that a run begun by code
 * without this replays.
 */
function upsertStatus(args: PalletWorkflowInput, status: PalletStatus, definition?: { id: string; version: string; digest?: string }): void {
  if (!args.searchAttributes || !patched(PALLET_SEARCH_ATTRIBUTES)) return;
  const keyword = (text: string) => (text.length > 200 ? text.slice(0, 200) : text);
  const pairs: SearchAttributeUpdatePair[] = [{ key: PalletSearchAttributes.status, value: status }];
  if (definition) {
    pairs.push(
      { key: PalletSearchAttributes.definitionId, value: keyword(definition.id) },
      { key: PalletSearchAttributes.definitionVersion, value: keyword(definition.version) },
    );
    if (definition.digest) pairs.push({ key: PalletSearchAttributes.definitionDigest, value: definition.digest });
  }
  upsertSearchAttributes(pairs);
}

async function interpret(args: PalletWorkflowInput): Promise<RunResult> {
  // Answered from the start; null until the definition is loaded.
  let state: RunState | null = null;
  setHandler(stateQuery, () => state);
  // Sleep and wait steps (waits.ts): the `event` update's handler is registered before any step runs.
  const waits = new Waits(args.timers);
  // Agents that ask (questions.ts): the `reply` update's handler, registered before any step runs.
  const questions = new Questions(args.asking, (asking) => {
    if (!state) return;
    if (asking.length) state.asking = asking;
    else delete state.asking;
    setCurrentDetails(progressText(state));
  });

  let { definition, source } = args;
  if (!definition) {
    if (!source) throw ApplicationFailure.nonRetryable('palletWorkflow needs a definition or a source reference', FailureTypes.invalidInput);
    setCurrentDetails(`loading definition ${source.ref}`);
    const ref = source.ref;
    const loaded = await activities.loadDefinition
      .executeWithOptions(
        {
          activityId: LOAD_DEFINITION_ACTIVITY,
          summary: `load definition ${ref}`,
          startToCloseTimeout: '60s',
          scheduleToCloseTimeout: DEFINITION_LOAD_DEADLINE,
        },
        [{ ref, digest: source.digest || undefined }],
      )
      .catch((err: unknown) => {
        throw ApplicationFailure.create({
          message: `cannot load workflow ${ref}: ${describeError(err)}`,
          type: FailureTypes.definitionLoadFailed,
          nonRetryable: true,
          cause: err as Error,
        });
      });
    definition = loaded.definition;
    source = loaded.source;
  }
  const { metadata } = definition;
  // Only known values: upserting null would delete a key the client set at start.
  // Cut to a size that cannot strain the memo whatever the definition says.
  const short = (text: string) => (text.length > 200 ? `${text.slice(0, 199)}…` : text);
  const memo: Record<string, string> = { definitionId: short(metadata.id), definitionName: short(metadata.name), definitionVersion: short(metadata.version) };
  if (source?.ref) memo.definitionRef = source.ref;
  if (source?.digest) memo.definitionDigest = source.digest;
  upsertMemo(memo);
  upsertStatus(args, 'running', { id: metadata.id, version: metadata.version, digest: source?.digest || undefined });

  const info = workflowInfo();
  const callsOf = args.callsOf ?? callsOfRun(info.workflowId, info.firstExecutionRunId);
  const context: RunContext = { callsOf, owner: args.owner ?? info.workflowId, lineage: [...(args.lineage ?? []), metadata.id] };
  const effects = temporalEffects(context, args.historyLimit ?? MAX_HISTORY_EVENTS, questions);
  const ran = definition;
  // Runs recorded before batching ran every branch inline (and crashed past a couple of thousand).
  effects.batches = { allowed: () => patched(BATCHED_PARALLEL), run: (batch) => runBatch(batch, ran, args, context) };
  Object.assign(effects, waits.effects);
  const run = new WorkflowRun(definition, args.input ?? {}, effects, {
    completed: args.completed,
    offers: args.offers,
    pinned: args.pinned,
    carried: args.carried,
    passed: args.passed,
    context: args.context,
    keys: args.keys,
    stored: args.stored,
    frame: args.frame,
  });
  state = run.state;
  const storeSegment = (segment: StateSegment) =>
    activities.storeState.executeWithOptions(
      { summary: `store ${Object.keys(segment.outputs).length} step outputs`, scheduleToCloseTimeout: STATE_STORE_DEADLINE },
      [{ owner: context.owner, segment }],
    );
  const result = await run.run().catch(async (err: unknown) => {
    // A long history: the walk stopped with nothing in flight; it goes on in a new one.
    if (err instanceof GenerationEnd) {
      return continueRun(
        await nextGeneration(
          args,
          { state: run.state, keys: run.keys, timers: waits.deadlines(), asking: questions.underway(), storeSegment },
          definition!,
          source,
        ),
      );
    }
    // A cancelled run ends CANCELLED, not as the failure of the step it was waiting on.
    if (CancellationScope.current().consideredCancelled)
      throw new CancelledFailure(`the run was cancelled (${err instanceof Error ? err.message : String(err)})`);
    throw err;
  });
  return finalResult(result, args, context, storeSegment);
}

/** Storing state or a result is retried (a registry outage) for this long before the run fails. */
const STATE_STORE_DEADLINE = '10m';

/**
 * The run's result as it is returned. One that holds outputs kept in the data store, or that
 * is over Temporal's payload limit (the server would refuse it and the run would retry its
 * last workflow task forever), has its step outputs assembled into one blob in the data store
 * (a claim-check reference in the result, resolved by `pallet run` and `result`).
 */
async function finalResult(
  result: RunResult,
  args: PalletWorkflowInput,
  context: RunContext,
  storeSegment: (segment: StateSegment) => Promise<ClaimRef>,
): Promise<RunResult> {
  const entries = Object.entries(result.step_outputs);
  const referenced = entries.some(([, { outputs }]) => isStateRef(outputs));
  const size = oversizedPayload(result);
  if (!referenced && size === undefined) return result;
  if (!patched(STATE_BY_REFERENCE)) {
    throw ApplicationFailure.nonRetryable(
      `the run's result (all step outputs) is ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload; ` +
        'every step finished: read their outputs with `pallet status`, and have agents return references instead of large data',
      FailureTypes.resultTooLarge,
    );
  }
  // Outputs kept in the data store are indexed in args.stored already; the others are stored now.
  const inline = entries.filter(([, { outputs }]) => !isStateRef(outputs)).map(([id, { outputs }]): [string, unknown] => [id, outputs]);
  const what =
    size === undefined
      ? `the run's result (${entries.length} step outputs, some kept in the data store)`
      : `the run's result (all step outputs) is ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload,`;
  try {
    const { segments, index } = await addSegments(args.stored, inline, {}, storeSegment);
    const stored = await activities.storeResult.executeWithOptions(
      { summary: `store the result (${entries.length} step outputs)`, scheduleToCloseTimeout: STATE_STORE_DEADLINE },
      [{ owner: context.owner, order: entries.map(([id]) => id), segments, index }],
    );
    return { ...result, step_outputs: stored.step_outputs as unknown as RunResult['step_outputs'], final_output: stored.final_output };
  } catch (err) {
    // Said once, with the cause: every step finished, only the result could not be kept.
    throw ApplicationFailure.create({
      message: `${what} and storing it in the data store failed: ${describeError(err)}; every step finished: read their outputs with \`pallet status\``,
      type: FailureTypes.resultTooLarge,
      nonRetryable: true,
      cause: err instanceof Error ? err : undefined,
    });
  }
}

/** What every call of a run shares: its call ids' stem, the owner of its data, the definitions it is nested in. */
interface RunContext {
  callsOf: string;
  /** The workflow id of the root run (data retention). */
  owner: string;
  /** The definition ids from the root run to this one, this one last. */
  lineage: string[];
}

/** `execute_workflow` nesting deeper than this fails the step: a workflow that runs itself must stop somewhere. */
export const MAX_WORKFLOW_DEPTH = 16;
/** Temporal's limit on a workflow id's length (the server's default). */
const MAX_WORKFLOW_ID_LENGTH = 1000;

/** Refuses a child run past MAX_WORKFLOW_DEPTH, or whose workflow id would be too long for Temporal. */
function checkNesting(context: RunContext, workflowId: string, childId: string): void {
  if (context.lineage.length >= MAX_WORKFLOW_DEPTH) {
    throw ApplicationFailure.nonRetryable(
      `running workflow ${workflowId} would nest runs ${context.lineage.length + 1} deep (${[...context.lineage, workflowId].join(' -> ')}), past the limit of ${MAX_WORKFLOW_DEPTH}: does a workflow run itself, directly or through others?`,
      FailureTypes.invalidDefinition,
    );
  }
  if (childId.length > MAX_WORKFLOW_ID_LENGTH) {
    throw ApplicationFailure.nonRetryable(
      `the child run's workflow id would be ${childId.length} characters, past Temporal's limit of ${MAX_WORKFLOW_ID_LENGTH}: shorten the step ids or the nesting`,
      FailureTypes.invalidDefinition,
    );
  }
}

/**
 * A batch of a large parallel step as a child workflow: a definition of just those branches,
 * the parent's outputs they may read, and the parent's call ids (an agent sees the same
 * Idempotency-Key as when the branch runs inline).
 */
function runBatch(batch: BranchBatch, definition: WorkflowDefinition, args: PalletWorkflowInput, context: RunContext): Promise<RunResult> {
  const { index, branches, frame } = batch;
  // Inside a loop the batch runs as its iteration (ids qualified, `item` and `index`); runs
  // recorded before that named a batch after the step as written, the same in every iteration.
  const inLoop = frame !== undefined && patched(BATCHES_IN_LOOPS);
  const step = inLoop ? batch.step : { ...batch.step, id: writtenStepId(batch.step.id) };
  // A retry's offers for these branches (a batch of the failed run finished them).
  const offers = inLoop ? offersUnder(args.offers, frame.prefix, branches) : offersForSteps(args.offers, branches);
  const written = { ...step, id: writtenStepId(step.id) };
  const child: PalletWorkflowInput = {
    definition: {
      metadata: definition.metadata,
      steps: [{ ...written, branches: { steps: branches } }],
      ...(definition.error_handling ? { error_handling: definition.error_handling } : {}),
    },
    input: args.input,
    // Only the outputs its branches read: the parent's may be many.
    context: outputsRead(branches, batch.context),
    callsOf: context.callsOf,
    owner: context.owner,
    lineage: context.lineage.slice(0, -1),
    ...(inLoop ? { frame } : {}),
    ...(offers ? { offers } : {}),
    ...(args.searchAttributes ? { searchAttributes: args.searchAttributes } : {}),
  };
  checkPayload([child], `batch ${index} of parallel step "${step.id}" (its branches and the outputs they may read)`);
  const first = branches[0]?.id;
  const last = branches[branches.length - 1]?.id;
  return executeChild(palletWorkflow, {
    workflowId: batchWorkflowId(workflowInfo().workflowId, step.id, index),
    args: [child],
    staticSummary: `${step.id}: branches ${first} to ${last} (batch ${index})`,
  });
}

/** The offers of a batch's branches inside a loop iteration: keyed by qualified ids (`loop[3].b`) under `prefix`. */
function offersUnder<T>(offers: Record<string, T> | undefined, prefix: string, branches: Step[]): Record<string, T> | undefined {
  if (!offers) return undefined;
  const inIteration = Object.fromEntries(
    Object.entries(offers)
      .filter(([id]) => id.startsWith(prefix))
      .map(([id, offer]) => [id.slice(prefix.length), offer]),
  );
  const mine = offersForSteps(inIteration, branches);
  return mine && Object.fromEntries(Object.entries(mine).map(([id, offer]) => [`${prefix}${id}`, offer]));
}

function temporalEffects({ callsOf, owner, lineage }: RunContext, historyLimit: number, questions: Questions): StepEffects {
  const gate = new CallGate();
  const generation = new Generation(historyLimit, () => gate.idle());
  return {
    beforeCall: () => generation.beforeCall(),
    isGenerationEnd: (err) => err instanceof GenerationEnd,
    async callAgent({ step, inputs, retry }) {
      const timeoutMs = step.timeout * 1000;
      const request: CallAgentRequest = { stepId: step.id, skill: step.skill, inputs, callId: callId(callsOf, step.id), owner };
      if (retry) request.retry = agentRetry(retry);
      const call = (req: CallAgentRequest, activityId: string, summary: string) => {
        const args: [CallAgentRequest] = [req];
        const bytes = checkPayload(args, 'its inputs after templating');
        return gate.run(bytes, () =>
          activities.callAgent.executeWithOptions(
            {
              activityId,
              summary,
              startToCloseTimeout: timeoutMs,
              scheduleToCloseTimeout: retry?.deadline ?? stepDeadlineMs(step.timeout),
              ...(retry ? { retry: retryPolicy(retry) } : {}),
              heartbeatTimeout: timeoutMs > HEARTBEAT_TIMEOUT_MS ? HEARTBEAT_TIMEOUT_MS : undefined,
              // A cancelled run waits until its agent calls have stopped, so an agent's task is cancelled
              // too (A2A CancelTask); runs recorded before this let go of them at once.
              ...(patched(WAIT_FOR_CANCELLED_CALLS) ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
            },
            args,
          ),
        );
      };
      // A question an earlier generation left unanswered: wait for its answer, do not ask again.
      const carried = questions.carriedFor(step.id);
      let reply: CallAgentReply = carried
        ? { result: null, agent: '', inputRequired: { task: carried.task, question: carried.question, data: carried.data } }
        : await call(request, agentActivityId(step.id), `${step.id}: ${step.skill}`);
      // The agent asked for input: wait (no worker held) for `pallet reply`, then go on with the same task.
      for (let round = 1; reply.inputRequired; round++) {
        const { task, question, data } = reply.inputRequired;
        const replyTimeout = step.reply_timeout;
        const answer = await questions.ask(
          { step: step.id, question, ...(data !== undefined ? { data } : {}), task },
          replyTimeout,
          round === 1 ? carried : undefined,
        );
        if (!answer) {
          throw ApplicationFailure.nonRetryable(
            `the agent asked "${question}" and no reply came within ${showDuration(replyTimeout ?? 0)} (reply_timeout); answer with \`pallet reply <workflow id> ${step.id} --text ...\``,
            FailureTypes.agentTimeout,
          );
        }
        const continued: CallAgentRequest = {
          ...request,
          answer: { ...task, ...(answer.text !== undefined ? { text: answer.text } : {}), ...(answer.data !== undefined ? { data: answer.data } : {}) },
        };
        reply = await call(continued, replyActivityId(step.id, round), `${step.id}: ${step.skill} (reply ${round})`);
      }
      return reply.result;
    },

    async pinWorkflow({ step, workflowId, digest }) {
      checkNesting({ callsOf, owner, lineage }, workflowId, childWorkflowId(workflowInfo().workflowId, step.id));
      // Runs recorded before pinning started their children by reference: replay them so.
      if (!patched(PIN_CHILD_DEFINITIONS)) return undefined;
      return activities.loadDefinition.executeWithOptions(
        {
          activityId: pinActivityId(step.id),
          summary: `${step.id}: load workflow ${workflowId}`,
          startToCloseTimeout: '60s',
          scheduleToCloseTimeout: DEFINITION_LOAD_DEADLINE,
        },
        [{ ref: workflowId, digest }],
      );
    },

    async runWorkflow({ step, workflowId, input, pinned }) {
      // The child's call ids follow from its parent's, so they too survive `pallet retry`.
      // A run that keeps Pallet's search attributes (it has a PalletStatus) tells its children to.
      const indexed = workflowInfo().typedSearchAttributes.get(PalletSearchAttributes.status) !== undefined;
      checkNesting({ callsOf, owner, lineage }, workflowId, childWorkflowId(workflowInfo().workflowId, step.id));
      const child = { input, callsOf: callId(callsOf, step.id), owner, lineage, ...(indexed ? { searchAttributes: true as const } : {}) };
      const args: PalletWorkflowInput = pinned
        ? { definition: pinned.definition, source: pinned.source, ...child }
        : { source: { ref: workflowId, digest: '' }, ...child };
      const bytes = checkPayload([args], `the input of workflow ${workflowId} (with its definition)`);
      return gate.run(bytes, () =>
        executeChild(palletWorkflow, {
          workflowId: childWorkflowId(workflowInfo().workflowId, step.id),
          args: [args],
          staticSummary: `${step.id}: run workflow ${workflowId}${pinned ? ` ${pinned.source.digest.slice(0, 19)}` : ''}`,
        }),
      );
    },

    patched,

    async all(tasks) {
      const scope = new CancellationScope();
      let firstError: { err: unknown } | undefined;
      const settled = await scope.run(() =>
        Promise.allSettled(
          tasks.map((task) =>
            task().catch((err: unknown) => {
              if (!firstError) {
                firstError = { err };
                scope.cancel();
              }
              throw err;
            }),
          ),
        ),
      );
      if (firstError) throw firstError.err;
      return settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<(typeof tasks)[number]>>>).value);
    },

    describeError,
    failureType,
    isCancellation,
    // Compensation runs even when the run is being cancelled.
    protect: (work) => CancellationScope.nonCancellable(work),
    // Shown as "current details" in the Web UI; kept out of the history.
    onChange: (state) => setCurrentDetails(progressText(state)),
  };
}

/** A step's retry settings as the agent activity's retry policy (durations in ms). */
function retryPolicy(retry: RetrySettings): RetryPolicy {
  return {
    initialInterval: retry.initial_interval ?? AGENT_RETRY.initialInterval,
    backoffCoefficient: retry.backoff_coefficient ?? AGENT_RETRY.backoffCoefficient,
    maximumInterval: retry.maximum_interval ?? AGENT_RETRY.maximumInterval,
  };
}

/** What the activity decides: how many of the agent's failures, which types to retry or not. */
function agentRetry(retry: RetrySettings): AgentRetry {
  return {
    ...(retry.max_attempts !== undefined ? { maxFailures: retry.max_attempts } : {}),
    ...(retry.retry_on ? { retryOn: retry.retry_on } : {}),
    ...(retry.non_retryable ? { noRetry: retry.non_retryable } : {}),
  };
}

/** The innermost failure type under an activity or child workflow failure. */
export function failureType(err: unknown): string | undefined {
  let type: string | undefined;
  for (let e = err; e instanceof Error; e = (e as { cause?: unknown }).cause) if (e instanceof ApplicationFailure && e.type) type = e.type;
  return type;
}

/** One line saying why an activity or child workflow failed, from the innermost cause. */
export function describeError(err: unknown, step?: SequentialStep): string {
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure) return describeTimeout(cause, err, step);
    // Retrying further would pass the step's deadline: Temporal ends with the last failure.
    if (err instanceof ActivityFailure && err.retryState === 'TIMEOUT' && step) {
      return `gave up before the step's deadline of ${deadlineText(step)}; last failure: ${cause?.message ?? err.message}`;
    }
    if (cause instanceof CancelledFailure) return 'cancelled';
    const reason = cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure ? describeError(cause) : (cause?.message ?? err.message);
    return err instanceof ChildWorkflowFailure ? `child workflow ${err.execution.workflowId}: ${reason}` : reason;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The step's deadline over all attempts, and where it comes from. */
function deadlineText(step: SequentialStep): string {
  const own = step.step_type === 'sequential' ? step.retry?.deadline : undefined;
  return own !== undefined ? `${own / 1000} s (its retry deadline)` : `${stepDeadlineMs(step.timeout) / 1000} s (ten times its timeout, at least 30 s)`;
}

/** A timeout, with the limit that was actually in force and the last failure before it. */
function describeTimeout(timeout: TimeoutFailure, err: ActivityFailure | ChildWorkflowFailure, step?: SequentialStep): string {
  const name = String(timeout.timeoutType).toLowerCase().replace(/_/g, '-');
  const last = timeout.cause?.message ? `; last failure: ${timeout.cause.message}` : '';
  if (!(err instanceof ActivityFailure) || !step) return `timed out (${name} timeout)${last}`;
  switch (timeout.timeoutType) {
    case 'HEARTBEAT':
      return `the worker running it stopped answering (no heartbeat for ${HEARTBEAT_TIMEOUT_MS / 1000} s) and no retry finished before the step's deadline${last}`;
    case 'SCHEDULE_TO_CLOSE':
      return `gave up at the step's deadline of ${deadlineText(step)}${last}`;
    default:
      return `timed out (${name} timeout of ${step.timeout} s)${last}`;
  }
}
