// The callAgent activity: find the agent for a skill, check the inputs against its card,
// and make one JSON-RPC call. Every failure becomes an ApplicationFailure whose
// retryability follows the agent's answer: transport errors and 5xx are retried,
// a JSON-RPC error, a 4xx, an unknown skill or a garbage reply fail the step at once.
//
// A reply is read as a stream with a byte cap, never whole into memory: a reply over the cap
// (by its Content-Length, or as it arrives) aborts the request and fails the step, so an
// agent answering hundreds of megabytes costs the worker a few megabytes at most. A reply
// must carry the JSON-RPC id of the call it answers.
//
// With a claim store (docs/large-data.md) the cap is much higher (PALLET_MAX_REPLY_BYTES):
// the parts of a result too big for Temporal's history are stored in the registry and
// replaced by references before the activity returns, and references in a step's inputs are
// replaced by their data before the agent is called, so agents see real data either way.
import { TextDecoder } from 'node:util';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import Ajv, { type ValidateFunction } from 'ajv';
import { AgentDirectory, networkReason, UnknownSkillError, type FoundAgent } from '../sources/agents';
import { MAX_PAYLOAD_BYTES } from '../dsl/types';
import { DEFAULT_CLAIM_CHECK_BYTES, DEFAULT_MAX_DATA_BYTES, hasClaims, resolveClaims, storeLargeValues, type ClaimStore } from '../claims';
import { FailureTypes } from '../contract';
import { isRetryable, RegistryError } from '../registry';
import type { CallAgentReply, CallAgentRequest } from './contract';

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
/** Of an error reply (HTTP 4xx, 5xx) only the start is read, for its message. */
const ERROR_BODY_BYTES = 64 * 1024;

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
}

export function createCallAgent({ directory, maxResultBytes = MAX_PAYLOAD_BYTES, claims, claimCheckBytes = DEFAULT_CLAIM_CHECK_BYTES, ...options }: AgentCallOptions) {
  const maxReplyBytes = options.maxReplyBytes ?? (claims ? DEFAULT_MAX_DATA_BYTES : MAX_REPLY_BYTES);
  // Whatever the setting, a stored result must fit in a payload.
  const threshold = Math.min(claimCheckBytes, maxResultBytes);
  const validators = new InputValidators();

  return async function callAgent(req: CallAgentRequest): Promise<CallAgentReply> {
    const ctx = Context.current();
    const { workflowExecution, attempt } = ctx.info;
    // A retry may be due to an agent that moved or died: look it up afresh.
    if (attempt > 1) directory.invalidate();
    let agent: FoundAgent;
    try {
      agent = await directory.find(req.skill);
    } catch (err) {
      if (err instanceof UnknownSkillError) {
        // With an agent unreachable the skill may be its: worth retrying. Otherwise it is unknown.
        const details = { skill: err.skill, knownSkills: err.knownSkills, problems: err.problems };
        if (err.problems.length > 0) {
          if (req.retry?.noRetry?.includes(FailureTypes.agentUnavailable)) throw ApplicationFailure.nonRetryable(err.message, FailureTypes.agentUnavailable, details);
          throw ApplicationFailure.retryable(err.message, FailureTypes.agentUnavailable, details);
        }
        throw ApplicationFailure.nonRetryable(err.message, FailureTypes.unknownSkill, details);
      }
      throw err;
    }
    // Stable across retries of this step, so an agent can recognise a repeated call: sent as
    // the Idempotency-Key header and as the JSON-RPC id, which the reply must carry back.
    const callId = req.callId ?? `${workflowExecution?.workflowId}/${workflowExecution?.runId}/${req.stepId}`;
    // Heartbeats let Temporal notice a dead worker long before the step timeout, and show
    // in the Web UI's pending activities who is being waited for.
    const started = Date.now();
    // The agent's own failures (HTTP 5xx, too slow) are counted across attempts in the
    // heartbeat details; worker crashes and unreachable agents are not: Temporal retries
    // those until the step's deadline (the activity's schedule-to-close timeout).
    const agentFailures = (ctx.info.heartbeatDetails as AttemptDetails | undefined)?.agentFailures ?? 0;
    const beat = (failures = agentFailures) => ctx.heartbeat({ agent: agent.url, waitingSeconds: Math.round((Date.now() - started) / 1000), agentFailures: failures } satisfies AttemptDetails);
    const heartbeat = setInterval(beat, HEARTBEAT_EVERY_MS);
    let inputs: Record<string, unknown>;
    try {
      // References in the inputs (large values of earlier steps) are replaced by their data
      // first, while heartbeating: reading them may take a while.
      inputs = claims && hasClaims(req.inputs) ? await readInputs(req, claims, maxReplyBytes) : req.inputs;
      const invalid = validators.check(agent, inputs);
      if (invalid) {
        throw ApplicationFailure.nonRetryable(`inputs do not match the input_schema of skill "${req.skill}" on agent ${agent.card.name}: ${invalid}`, FailureTypes.invalidInput);
      }
    } catch (err) {
      clearInterval(heartbeat);
      throw err;
    }
    // The step's timeout is the agent's: give up a moment before Temporal's start-to-close
    // timeout, so that a slow agent counts as the agent's failure, not as a lost worker.
    const slow = AbortSignal.timeout(ctx.info.startToCloseTimeoutMs - Math.min(AGENT_TIMEOUT_MARGIN_MS, ctx.info.startToCloseTimeoutMs / 10));
    try {
      const reply = await invokeSkill(agent, req.skill, inputs, callId, AbortSignal.any([ctx.cancellationSignal, slow]), maxReplyBytes).catch((err: unknown) => {
        if (slow.aborted && !ctx.cancellationSignal.aborted) {
          throw ApplicationFailure.retryable(`${agent.card.name} (${agent.url}) did not answer within the step's timeout of ${Math.round(ctx.info.startToCloseTimeoutMs / 1000)} s`, FailureTypes.agentTimeout);
        }
        throw err;
      });
      const result = claims ? await storeResult(reply, req, claims, threshold) : reply;
      checkSize(result, agent, req, maxResultBytes);
      return { result, agent: agent.url };
    } catch (err) {
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
    if (err instanceof RegistryError) throw isRetryable(err) ? ApplicationFailure.retryable(message, FailureTypes.registryError) : ApplicationFailure.nonRetryable(message, FailureTypes.registryError);
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
async function storeResult(result: unknown, req: CallAgentRequest, claims: ClaimStore, threshold: number): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await storeLargeValues(result, claims, threshold)).value;
    } catch (err) {
      const message = `storing the large values of step "${req.stepId}"'s result in ${claims.location} failed: ${(err as Error).message}`;
      if (!(err instanceof RegistryError)) throw ApplicationFailure.retryable(message, FailureTypes.registryError);
      if (!isRetryable(err)) throw ApplicationFailure.nonRetryable(message, FailureTypes.registryError);
      if (attempt >= STORE_ATTEMPTS) throw ApplicationFailure.retryable(message, FailureTypes.registryError);
      await new Promise((resolve) => setTimeout(resolve, STORE_BACKOFF_MS * attempt));
    }
  }
}

/** What an attempt leaves to the next one of the same step. */
interface AttemptDetails {
  agent: string;
  waitingSeconds: number;
  agentFailures: number;
}

/** An agent's own failures end a step after this many; outages and crashes do not count. */
export const MAX_AGENT_FAILURES = 3;
/** Failures that are the agent's doing (not the network's or the worker's). */
const AGENT_FAULTS = new Set<string>([FailureTypes.agentServerError, FailureTypes.agentTimeout]);
const AGENT_TIMEOUT_MARGIN_MS = 1_000;

/** One JSON-RPC call to an agent; throws ApplicationFailures classified for retrying. */
export async function invokeSkill(
  agent: FoundAgent,
  skill: string,
  params: Record<string, unknown>,
  callId: string,
  signal?: AbortSignal,
  maxReplyBytes = MAX_REPLY_BYTES,
): Promise<unknown> {
  const who = `agent ${agent.card.name} (${agent.url})`;
  // Aborted when the activity is cancelled, and by us to stop a reply that is too big.
  const request = new AbortController();
  const cancelled = () => request.abort(signal?.reason);
  if (signal?.aborted) throw cancellation(signal);
  signal?.addEventListener('abort', cancelled, { once: true });
  try {
    let response: Response;
    try {
      response = await fetch(`${agent.url}/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': callId },
        body: JSON.stringify({ jsonrpc: '2.0', method: skill, params, id: callId }),
        signal: request.signal,
        // Step data goes only to the URL that was checked (see PALLET_AGENT_HOSTS), never on.
        redirect: 'manual',
      });
    } catch (err) {
      if (signal?.aborted) throw cancellation(signal);
      throw ApplicationFailure.retryable(`${who} is unreachable (${networkReason(err)})`, FailureTypes.agentUnavailable);
    }

    if (response.status >= 300 && response.status < 400) {
      request.abort();
      const to = response.headers.get('location');
      throw ApplicationFailure.nonRetryable(`${who} answered with a redirect (HTTP ${response.status}${to ? ` to ${to.slice(0, 200)}` : ''}); agents are called only at their card's URL`, FailureTypes.agentRejected);
    }
    if (response.status >= 400) {
      // Only the start of an error reply matters (its message); its status decides.
      const read = await readCapped(response, ERROR_BODY_BYTES, request);
      if (signal?.aborted) throw cancellation(signal);
      const text = read.text();
      if (response.status === 404) {
        throw ApplicationFailure.nonRetryable(`${who} does not offer skill "${skill}" (HTTP 404${errorSuffix(text)})`, FailureTypes.unknownSkill);
      }
      if (response.status >= 500) {
        throw ApplicationFailure.retryable(`${who} answered HTTP ${response.status}${errorSuffix(text)}`, FailureTypes.agentServerError);
      }
      throw ApplicationFailure.nonRetryable(`${who} rejected the call with HTTP ${response.status}${errorSuffix(text)}`, FailureTypes.agentRejected);
    }

    // Refuse by the announced length before reading anything. A compressed body's length says
    // nothing about the decompressed size: that one is capped as it is read.
    const announced = contentLength(response);
    if (announced !== undefined && announced > maxReplyBytes) {
      request.abort();
      throw tooLarge(who, maxReplyBytes, `its Content-Length is ${announced}`);
    }
    const read = await readCapped(response, maxReplyBytes, request);
    if (signal?.aborted) throw cancellation(signal);
    if (read.over) throw tooLarge(who, maxReplyBytes, `stopped reading after ${read.bytes} bytes`);
    if (read.error !== undefined) {
      // The connection broke mid-reply: a transport failure, worth another attempt.
      throw ApplicationFailure.retryable(`${who} broke off its reply after ${read.bytes} bytes (${brokenReason(read.error)})`, FailureTypes.agentUnavailable);
    }
    return parseReply(who, read.text(), callId);
  } finally {
    signal?.removeEventListener('abort', cancelled);
  }
}

/** The result of a JSON-RPC reply to the call `callId`, or the ApplicationFailure it amounts to. */
function parseReply(who: string, body: string, callId: string): unknown {
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    throw ApplicationFailure.nonRetryable(`${who} returned a reply that is not JSON: ${snippet(body)}`, FailureTypes.agentBadResponse);
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    throw ApplicationFailure.nonRetryable(`${who} returned a reply that is not a JSON-RPC object: ${snippet(body)}`, FailureTypes.agentBadResponse);
  }
  const rpc = reply as { result?: unknown; error?: { message?: unknown; code?: unknown } | null; id?: unknown };
  const isError = rpc.error !== undefined && rpc.error !== null;
  const errorMessage = isError ? (typeof rpc.error?.message === 'string' ? rpc.error.message : JSON.stringify(rpc.error)) : '';
  // JSON-RPC 2.0: a reply carries the id of the request it answers; null only in an error
  // reply to a request whose id the server could not read.
  if (!('id' in rpc) || (rpc.id !== callId && !(isError && rpc.id === null))) {
    const received = 'id' in rpc ? `JSON-RPC id ${idText(rpc.id)}` : 'no JSON-RPC id';
    throw ApplicationFailure.nonRetryable(
      `${who} answered with ${received} to the call with id ${idText(callId)}: the reply is not for this call${isError ? ` (its error: ${errorMessage})` : ''}`,
      FailureTypes.agentBadResponse,
      { sentId: callId, receivedId: 'id' in rpc ? idValue(rpc.id) : null },
    );
  }
  if (isError) {
    throw ApplicationFailure.nonRetryable(`${who} reported an error: ${errorMessage}`, FailureTypes.agentSkillError, { code: rpc.error?.code ?? null });
  }
  if (!('result' in rpc)) {
    throw ApplicationFailure.nonRetryable(`${who} returned a JSON-RPC reply with neither "result" nor "error": ${snippet(body)}`, FailureTypes.agentBadResponse);
  }
  return rpc.result;
}

interface CappedRead {
  /** The bytes kept (at most the cap) as text, UTF-8: the whole body unless `over` or `error`. */
  text(): string;
  /** Bytes received (when `over`: those read before stopping, the last chunk included). */
  bytes: number;
  /** More than the cap arrived: reading stopped and the request was aborted. */
  over: boolean;
  /** The body broke off (connection reset, aborted). */
  error?: unknown;
}

/**
 * Reads a response body chunk by chunk, keeping at most `limit` bytes: past it, the request
 * is aborted and the rest is never received. Never throws.
 */
async function readCapped(response: Response, limit: number, request: AbortController): Promise<CappedRead> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // Called once: the chunks are let go as soon as they are joined, so a large reply is held
  // twice at most (bytes, then text) rather than three times.
  const text = () => {
    const bytes = Buffer.concat(chunks);
    chunks.length = 0;
    return new TextDecoder().decode(bytes);
  };
  if (!response.body) return { text, bytes, over: false };
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, bytes, over: false };
      bytes += value.byteLength;
      if (bytes > limit) {
        request.abort();
        reader.cancel().catch(() => undefined);
        chunks.push(value.subarray(0, value.byteLength - (bytes - limit)));
        return { text, bytes, over: true };
      }
      chunks.push(value);
    }
  } catch (err) {
    return { text, bytes, over: false, error: err };
  }
}

function contentLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding.trim().toLowerCase() !== 'identity') return undefined;
  const value = response.headers.get('content-length');
  return value !== null && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

function tooLarge(who: string, limit: number, how: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${who} replied with more than ${limit} bytes (the limit of a reply; ${how}); have the agent return a reference (URL, object key) instead of the data`,
    FailureTypes.resultTooLarge,
  );
}

/** What to throw when the activity was cancelled: the reason the SDK gave (a CancelledFailure). */
function cancellation(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the call was cancelled');
}

/** Why a body broke off: `ECONNRESET`, `other side closed`, ... */
function brokenReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code && /^E[A-Z]+$/.test(cause.code)) return cause.code;
  return cause?.message ?? (err as Error)?.message ?? String(err);
}

/** A received id for the failure's details: itself when small, else its shortened JSON (it goes into the history). */
function idValue(id: unknown): unknown {
  if (id === null || typeof id === 'number' || typeof id === 'boolean' || (typeof id === 'string' && id.length <= 200)) return id;
  return idText(id);
}

/** A JSON-RPC id for a message: its JSON, shortened. */
function idText(id: unknown): string {
  const text = JSON.stringify(id) ?? String(id);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

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

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat || '(empty body)';
}

function errorSuffix(body: string): string {
  if (!body) return '';
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; detail?: string };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.detail);
    if (message) return `: ${message}`;
  } catch {
    // Not JSON: show the start of the text.
  }
  return `: ${snippet(body)}`;
}
