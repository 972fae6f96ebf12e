// The callAgent activity: find the agent for a skill, check the inputs against its card, and
// make one call through the agent's protocol (src/agents/: Pallet's JSON-RPC unless its entry
// names another). The protocol classifies the agent's answer as an ApplicationFailure; this
// module keeps the policy around the call, the same whatever the protocol: retry budgets
// counted across attempts, heartbeats, the step's timeout, reply and result sizes, and the
// claim check. A long task (A2A) is followed by the protocol while this heartbeats: its id is
// in the heartbeat details at once, so the next attempt after a worker crash follows the same
// task instead of starting another; a question from the agent (InputRequired) is a reply, not
// a failure: the workflow waits for the answer and calls again with it.
//
// With a claim store (docs/large-data.md) the reply cap is much higher (PALLET_MAX_REPLY_BYTES):
// the parts of a result too big for Temporal's history are stored in the registry and
// replaced by references before the activity returns, and references in a step's inputs are
// replaced by their data before the agent is called, so agents see real data either way.
import { context as otelContext, propagation, trace } from '@opentelemetry/api';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import Ajv, { type ValidateFunction } from 'ajv';
import type { AgentCredentials } from '../agents/credentials';
import { InputRequired, type AgentProtocol, type TaskRef } from '../agents/protocol';
import { AGENT_PROTOCOLS, protocolNamed } from '../agents/protocols';
import { AgentDirectory, UnknownSkillError, type FoundAgent } from '../sources/agents';
import { MAX_PAYLOAD_BYTES } from '../dsl/types';
import { DEFAULT_CLAIM_CHECK_BYTES, DEFAULT_MAX_DATA_BYTES, hasClaims, resolveClaims, storeLargeValues, type ClaimStore } from '../claims';
import { FailureTypes } from '../contract';
import { isRetryable, RegistryError } from '../registry';
import { AgentCallMetrics } from '../telemetry/agent-metrics';
import type { CallAgentReply, CallAgentRequest } from './contract';
import { registryFailure } from './failures';

const HEARTBEAT_EVERY_MS = 2_000;

/**
 * The most bytes of a reply read; a bigger reply fails the step (resultTooLarge) as soon as
 * it passes this. Twice the result limit (MAX_PAYLOAD_BYTES), because that limit applies to
 * the result as the worker re-serializes it (compact JSON, UTF-8) and the same result may
 * arrive bigger: inside the JSON-RPC envelope, with Python's `", "` and `": "` separators or
 * indentation, or with non-ASCII text as `\uXXXX` escapes (Python's default `json.dumps`:
 * a 3-byte character takes 6). One call then holds at most a few times 3.8 MB (bytes, text,
 * parsed value). A reply whose wire form is more than twice its result (mostly non-Latin
 * text, escaped) is refused a little before the result limit, with the same advice.
 */
export const MAX_REPLY_BYTES = 2 * MAX_PAYLOAD_BYTES;

export interface AgentCallOptions {
  directory: AgentDirectory;
  /** Bytes of a step's result at most (as the worker serializes it); default MAX_PAYLOAD_BYTES. */
  maxResultBytes?: number;
  /**
   * Bytes of a reply read at most, whatever maxResultBytes is, and of data read for a call's
   * inputs; default MAX_REPLY_BYTES, or DEFAULT_MAX_DATA_BYTES with `claims`.
   */
  maxReplyBytes?: number;
  /** Where the large parts of results go, and references in inputs are read from (docs/large-data.md). */
  claims?: ClaimStore;
  /** With `claims`: parts of a result whose JSON is over this many bytes are stored (default DEFAULT_CLAIM_CHECK_BYTES). */
  claimCheckBytes?: number;
  /** The protocols agents may speak, by name (default AGENT_PROTOCOLS: Pallet's and A2A). */
  protocols?: readonly AgentProtocol[];
  /** Headers per agent host (PALLET_AGENT_CREDENTIALS), sent on the protocol's requests only. */
  credentials?: AgentCredentials;
}

export function createCallAgent({
  directory,
  maxResultBytes = MAX_PAYLOAD_BYTES,
  claims,
  claimCheckBytes = DEFAULT_CLAIM_CHECK_BYTES,
  protocols = AGENT_PROTOCOLS,
  credentials,
  ...options
}: AgentCallOptions) {
  const maxReplyBytes = options.maxReplyBytes ?? (claims ? DEFAULT_MAX_DATA_BYTES : MAX_REPLY_BYTES);
  // Whatever the setting, a stored result must fit in a payload.
  const threshold = Math.min(claimCheckBytes, maxResultBytes);
  const validators = new InputValidators();

  return async function callAgent(req: CallAgentRequest): Promise<CallAgentReply> {
    const ctx = Context.current();
    const { workflowExecution, attempt } = ctx.info;
    const metrics = new AgentCallMetrics(ctx.metricMeter);
    // A retry may be due to an agent that moved or died: look it up afresh.
    if (attempt > 1) {
      directory.invalidate();
      metrics.retried(req.skill);
    }
    let agent: FoundAgent;
    try {
      agent = await directory.find(req.skill);
    } catch (err) {
      metrics.failed(
        { skill: req.skill },
        err instanceof UnknownSkillError ? (err.problems.length > 0 ? FailureTypes.agentUnavailable : FailureTypes.unknownSkill) : 'Error',
      );
      ctx.log.warn('agent lookup failed', { step: req.stepId, skill: req.skill, attempt, error: (err as Error).message });
      if (err instanceof UnknownSkillError) {
        // With an agent unreachable the skill may be its: worth retrying. Otherwise it is unknown.
        const details = { skill: err.skill, knownSkills: err.knownSkills, problems: err.problems };
        if (err.problems.length > 0) {
          if (req.retry?.noRetry?.includes(FailureTypes.agentUnavailable))
            throw ApplicationFailure.nonRetryable(err.message, FailureTypes.agentUnavailable, details);
          throw ApplicationFailure.retryable(err.message, FailureTypes.agentUnavailable, details);
        }
        throw ApplicationFailure.nonRetryable(err.message, FailureTypes.unknownSkill, details);
      }
      throw err;
    }
    const labels = { skill: req.skill, agent: agent.card.name };
    // The SDK's activity span (tracing on): which step, skill and agent it is.
    trace
      .getActiveSpan()
      ?.setAttributes({ 'pallet.step': req.stepId, 'pallet.skill': req.skill, 'pallet.agent': agent.card.name, 'pallet.agent_url': agent.url });
    const protocol = protocolNamed(protocols, agent.protocol);
    if (!protocol) {
      const spoken = protocols.map((p) => p.name).join(', ');
      throw ApplicationFailure.nonRetryable(
        `agent ${agent.card.name} (${agent.url}, from ${agent.origin}) speaks protocol "${agent.protocol}", which this worker does not (it speaks ${spoken})`,
        FailureTypes.agentUnavailable,
      );
    }
    // Stable across retries of this step, so an agent can recognise a repeated call: Pallet's
    // protocol sends it as the Idempotency-Key header and as the JSON-RPC id, which the reply
    // must carry back.
    const callId = req.callId ?? `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${req.stepId}`;
    // Heartbeats let Temporal notice a dead worker long before the step timeout, and show
    // in the Web UI's pending activities who is being waited for.
    const started = Date.now();
    // The agent's own failures (HTTP 5xx, too slow) are counted across attempts in the
    // heartbeat details; worker crashes and unreachable agents are not: Temporal retries
    // those until the step's deadline (the activity's schedule-to-close timeout).
    const earlier = ctx.info.heartbeatDetails as AttemptDetails | undefined;
    const agentFailures = earlier?.agentFailures ?? 0;
    // The task an earlier attempt started (a crashed worker's): followed, never started again.
    let task = earlier?.task;
    const beat = (failures = agentFailures) =>
      ctx.heartbeat({
        agent: agent.url,
        waitingSeconds: Math.round((Date.now() - started) / 1000),
        agentFailures: failures,
        ...(task ? { task } : {}),
      } satisfies AttemptDetails);
    const heartbeat = setInterval(beat, HEARTBEAT_EVERY_MS);
    let inputs: Record<string, unknown>;
    try {
      // References in the inputs (large values of earlier steps) are replaced by their data
      // first, while heartbeating: reading them may take a while.
      inputs = claims && hasClaims(req.inputs) ? await readInputs(req, claims, maxReplyBytes) : req.inputs;
      const invalid = validators.check(agent, inputs);
      if (invalid) {
        throw ApplicationFailure.nonRetryable(
          `inputs do not match the input_schema of skill "${req.skill}" on agent ${agent.card.name}: ${invalid}`,
          FailureTypes.invalidInput,
        );
      }
    } catch (err) {
      clearInterval(heartbeat);
      throw err;
    }
    // The step's timeout is the agent's: give up a moment before Temporal's start-to-close
    // timeout, so that a slow agent counts as the agent's failure, not as a lost worker.
    const slow = AbortSignal.timeout(ctx.info.startToCloseTimeoutMs - Math.min(AGENT_TIMEOUT_MARGIN_MS, ctx.info.startToCloseTimeoutMs / 10));
    try {
      const signal = AbortSignal.any([ctx.cancellationSignal, slow]);
      const onTask = (named: TaskRef) => {
        task = named;
        beat();
      };
      const call = {
        callId,
        signal,
        maxReplyBytes,
        onTask,
        headers: agentHeaders(agent.url, credentials),
        ...(task ? { resume: task } : {}),
        ...(req.answer ? { answer: req.answer } : {}),
      };
      const callStarted = performance.now();
      const reply = await protocol.call(agent, req.skill, inputs, call).catch((err: unknown) => {
        metrics.called(labels, performance.now() - callStarted, failureKind(err, slow.aborted && !ctx.cancellationSignal.aborted));
        if (slow.aborted && !ctx.cancellationSignal.aborted) {
          throw ApplicationFailure.retryable(
            `${agent.card.name} (${agent.url}) did not answer within the step's timeout of ${Math.round(ctx.info.startToCloseTimeoutMs / 1000)} s`,
            FailureTypes.agentTimeout,
          );
        }
        throw err;
      });
      metrics.called(labels, performance.now() - callStarted, 'ok');
      const result = claims ? await storeResult(reply, req, claims, threshold, (bytes) => metrics.claimStored(req.skill, bytes)) : reply;
      checkSize(result, agent, req, maxResultBytes);
      return { result, agent: agent.url };
    } catch (err) {
      if (err instanceof InputRequired) {
        metrics.asked(labels);
        return {
          result: null,
          agent: agent.url,
          inputRequired: { task: err.task, question: err.question, ...(err.data !== undefined ? { data: err.data } : {}) },
        };
      }
      const kind = failureKind(err, false);
      metrics.failed(labels, kind);
      ctx.log.warn('agent call failed', {
        step: req.stepId,
        skill: req.skill,
        agent: agent.card.name,
        agentUrl: agent.url,
        kind,
        attempt,
        error: (err as Error)?.message,
      });
      if (!(err instanceof ApplicationFailure)) throw err;
      const type = err.type ?? '';
      // The step's retry settings: types that end it at once, types retried although final.
      if (req.retry?.noRetry?.includes(type)) throw err.nonRetryable ? err : ApplicationFailure.nonRetryable(err.message, err.type, ...(err.details ?? []));
      const counted = (AGENT_FAULTS.has(type) && !err.nonRetryable) || req.retry?.retryOn?.includes(type);
      if (!counted) throw err;
      const max = req.retry?.maxFailures ?? MAX_AGENT_FAILURES;
      const failures = agentFailures + 1;
      beat(failures);
      const count = `the agent's failure ${failures} of ${max}`;
      if (failures >= max) throw ApplicationFailure.nonRetryable(`${err.message} (${count})`, err.type, ...(err.details ?? []));
      throw ApplicationFailure.retryable(`${err.message} (${count})`, err.type, ...(err.details ?? []));
    } finally {
      clearInterval(heartbeat);
    }
  };
}

/** The step's inputs with references replaced by their data; registry failures as the step's. */
async function readInputs(req: CallAgentRequest, claims: ClaimStore, maxBytes: number): Promise<Record<string, unknown>> {
  try {
    return (await resolveClaims(req.inputs, claims, { maxBytes })) as Record<string, unknown>;
  } catch (err) {
    const message = `reading the data referenced by step "${req.stepId}"'s inputs from ${claims.location} failed: ${(err as Error).message}`;
    if (err instanceof RegistryError) throw registryFailure(err, message);
    throw ApplicationFailure.nonRetryable(message, FailureTypes.inputTooLarge);
  }
}

/** Tries to store a result's large parts before giving up the agent's answer: this many times, this far apart. */
const STORE_ATTEMPTS = 3;
const STORE_BACKOFF_MS = 1_000;

/**
 * The agent's result with its large parts stored and replaced by references. A registry that
 * is down is tried again a few times here (the agent's answer would otherwise be lost), then
 * the step fails retryably: never is a value too large for the history kept inline.
 */
async function storeResult(result: unknown, req: CallAgentRequest, claims: ClaimStore, threshold: number, onStored: (bytes: number) => void): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      const split = await storeLargeValues(result, claims, threshold, req.owner);
      onStored(split.stored.reduce((sum, ref) => sum + ref.size, 0));
      return split.value;
    } catch (err) {
      const message = `storing the large values of step "${req.stepId}"'s result in ${claims.location} failed: ${(err as Error).message}`;
      if (!(err instanceof RegistryError)) throw ApplicationFailure.retryable(message, FailureTypes.registryError);
      if (!isRetryable(err) || attempt >= STORE_ATTEMPTS) throw registryFailure(err, message);
      await new Promise((resolve) => setTimeout(resolve, STORE_BACKOFF_MS * attempt));
    }
  }
}

/**
 * Headers of an agent call: the W3C trace context of the activity's span (none when tracing is off:
 * no propagator is registered), then the host's credentials.
 */
function agentHeaders(url: string, credentials: AgentCredentials | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(otelContext.active(), headers);
  return { ...headers, ...credentials?.headersFor(url) };
}

/** The failure type of an agent call's rejection, for metrics and logs (bounded: FailureTypes or Error/Cancelled). */
function failureKind(err: unknown, timedOut: boolean): string {
  if (timedOut) return FailureTypes.agentTimeout;
  if (err instanceof InputRequired) return 'input_required';
  if (err instanceof ApplicationFailure) return err.type ?? 'ApplicationFailure';
  return (err as Error)?.name === 'AbortError' ? 'Cancelled' : 'Error';
}

/** What an attempt leaves to the next one of the same step. */
interface AttemptDetails {
  agent: string;
  waitingSeconds: number;
  agentFailures: number;
  /** The agent's task for this step (A2A), once it named one. */
  task?: TaskRef;
}

/** An agent's own failures end a step after this many; outages and crashes do not count. */
export const MAX_AGENT_FAILURES = 3;
/** Failures that are the agent's doing (not the network's or the worker's). */
const AGENT_FAULTS = new Set<string>([FailureTypes.agentServerError, FailureTypes.agentTimeout]);
const AGENT_TIMEOUT_MARGIN_MS = 1_000;

function checkSize(result: unknown, agent: FoundAgent, req: CallAgentRequest, limit: number): void {
  const size = Buffer.byteLength(JSON.stringify(result) ?? 'null');
  if (size > limit) {
    throw ApplicationFailure.nonRetryable(
      `agent ${agent.card.name} returned ${size} bytes for step "${req.stepId}", over the ${limit}-byte limit of a Temporal payload; ` +
        'have the agent return a reference (URL, object key) instead of the data',
      FailureTypes.resultTooLarge,
    );
  }
}

/** JSON-Schema checks of step inputs against the agent card's `input_schema`, compiled once per card. */
class InputValidators {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly cache = new Map<string, ValidateFunction | null>();

  check(agent: FoundAgent, inputs: Record<string, unknown>): string | undefined {
    const key = `${agent.url}#${agent.skill.id}#${JSON.stringify(agent.skill.input_schema ?? null)}`;
    let validate = this.cache.get(key);
    if (validate === undefined) {
      validate = agent.skill.input_schema ? this.compile(agent.skill.input_schema) : null;
      this.cache.set(key, validate);
    }
    // A template that found nothing gives null: for the schema, treat it as "not given".
    const given = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== null));
    if (!validate || validate(given)) return undefined;
    return (validate.errors ?? [])
      .map((e) => {
        const missing = (e.params as { missingProperty?: string }).missingProperty;
        if (missing) return `missing required input "${missing}"`;
        const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(inputs)';
        return `input "${field}" ${e.message}`;
      })
      .join('; ');
  }

  private compile(schema: Record<string, unknown>): ValidateFunction | null {
    try {
      return this.ajv.compile(schema);
    } catch {
      return null; // A broken schema on a card must not block calls; the agent still checks its inputs.
    }
  }
}
