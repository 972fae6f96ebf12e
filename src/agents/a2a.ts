// The Agent2Agent protocol (A2A 1.0, and 0.3 through the SDK's compatibility layer), on the
// official client (@a2a-js/sdk): the card at `GET {url}/.well-known/agent-card.json`, a call
// as ONE non-blocking SendMessage (the inputs as one data part, the skill id in the message
// metadata under `skill`, the call id as messageId), then the task followed with GetTask until
// it ends. A message is never sent twice: a retried attempt follows the task an earlier one
// started (options.resume), so a worker crash does not start a second execution. Every request
// goes through one fetch of ours: the host's credentials added there (never into a message or
// an error), no redirects, replies read with a byte cap, HTTP failures classified for retrying.
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory, type Client } from '@a2a-js/sdk/client';
import { FailureTypes } from '../contract';
import { checkBaseUrl, quoteUrl, refusedHost, type HostPattern } from '../sources/agent-hosts';
import type { AgentCard, A2aInterface } from './card';
import { cancellation, fetchNoRedirect, readCapped, readReplyText, snippet } from './http-reply';
import { InputRequired, type AgentProtocol, type AgentTarget, type CallOptions, type TaskRef } from './protocol';

export const A2A_PROTOCOL = 'a2a';
export const A2A_CARD_PATH = '/.well-known/agent-card.json';

/** Of an error reply (HTTP 4xx, 5xx) only the start is read, for its message. */
const ERROR_BODY_BYTES = 64 * 1024;
/** A card is small; a bigger one is refused. */
const CARD_BYTES = 1024 * 1024;
/** GetTask polling: the first wait, doubled up to the last. */
export const POLL_FIRST_MS = 500;
export const POLL_MAX_MS = 5_000;
/** CancelTask is best effort: this long at most. */
const CANCEL_TIMEOUT_MS = 3_000;
const LEGACY = { legacyCompat: { enabled: true } };

export const a2aProtocol: AgentProtocol = {
  name: A2A_PROTOCOL,
  fetchCard: fetchA2aCard,
  call: callA2a,
};

/** Whether a card's JSON is an A2A card (1.0: `supportedInterfaces`; 0.3: `protocolVersion`, `url` and `skills`), not Pallet's. */
export function isA2aCard(data: unknown): boolean {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  const card = data as Record<string, unknown>;
  return Array.isArray(card.supportedInterfaces) || (typeof card.protocolVersion === 'string' && typeof card.url === 'string' && Array.isArray(card.skills));
}

/**
 * An A2A card's JSON in Pallet's shape: its skills (id, description, and an input_schema when
 * the skill carries one, as `input_schema`/`inputSchema` or under `metadata`), and in `a2a`
 * the interfaces calls go to. Throws an Error saying what is wrong with it.
 */
export function a2aCardToPallet(data: unknown): AgentCard {
  if (!isA2aCard(data)) throw new Error('not an A2A agent card (no "supportedInterfaces", nor "protocolVersion", "url" and "skills")');
  const raw = data as { skills?: unknown[] };
  const card = new DefaultAgentCardResolver(LEGACY).normalizeAgentCard(data);
  if (!card.name) throw new Error('the A2A agent card has no "name"');
  const interfaces: A2aInterface[] = (card.supportedInterfaces ?? []).map((i) => ({
    url: i.url,
    protocolBinding: i.protocolBinding,
    protocolVersion: i.protocolVersion,
    ...(i.tenant ? { tenant: i.tenant } : {}),
  }));
  const callable = interfaces.filter((i) => TRANSPORTS.has(i.protocolBinding.toUpperCase()));
  if (callable.length === 0) {
    const named = interfaces.map((i) => i.protocolBinding).join(', ') || 'none';
    throw new Error(`the A2A agent card of ${card.name} names no JSONRPC or HTTP+JSON interface (it names: ${named})`);
  }
  const skills = (card.skills ?? []).map((s, i) => {
    const schema = inputSchemaOf(raw.skills?.[i]);
    return { id: s.id, ...(s.description ? { description: s.description } : {}), ...(schema ? { input_schema: schema } : {}) };
  });
  if (skills.some((s) => !s.id)) throw new Error(`the A2A agent card of ${card.name} has a skill without an "id"`);
  return { name: card.name, url: callable[0].url, skills, a2a: { interfaces: callable, ...(card.capabilities?.streaming ? { streaming: true } : {}) } };
}

/**
 * Why an A2A card may not be called, naming the URL, or undefined: each interface URL must be a
 * plain base URL on a host the policy allows (agent-hosts.ts; `allowed` is PALLET_AGENT_HOSTS).
 */
export function a2aInterfaceProblem(card: AgentCard, allowed?: HostPattern[]): string | undefined {
  for (const { url } of card.a2a?.interfaces ?? []) {
    const base = checkBaseUrl(url);
    const why = base.ok ? refusedHost(base, allowed) : `not a plain base URL: ${base.reason}`;
    if (why) return `A2A interface url ${quoteUrl(url)}: ${why}`;
  }
  return undefined;
}

const TRANSPORTS = new Set(['JSONRPC', 'HTTP+JSON']);

function inputSchemaOf(skill: unknown): Record<string, unknown> | undefined {
  const s = (skill ?? {}) as { input_schema?: unknown; inputSchema?: unknown; metadata?: { input_schema?: unknown; inputSchema?: unknown } };
  const schema = s.input_schema ?? s.inputSchema ?? s.metadata?.input_schema ?? s.metadata?.inputSchema;
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? (schema as Record<string, unknown>) : undefined;
}

/** The JSON an agent serves at /.well-known/agent-card.json; throws an Error naming the address. */
export async function fetchA2aCardJson(baseUrl: string, signal: AbortSignal, headers?: Record<string, string>): Promise<unknown> {
  const base = baseUrl.replace(/\/+$/, '');
  const who = `agent at ${base}`;
  const guarded = guardedFetch(who, { headers, maxReplyBytes: CARD_BYTES });
  let text: string;
  try {
    text = await (await guarded(`${base}${A2A_CARD_PATH}`, { headers: { accept: 'application/json' }, signal })).text();
  } catch (err) {
    // Unreachable is said as Pallet's protocol says it, so that discovery reports a down agent once.
    if (err instanceof ApplicationFailure && err.type === FailureTypes.agentUnavailable) throw new Error(err.message);
    throw new Error(err instanceof ApplicationFailure ? `${err.message} for ${A2A_CARD_PATH}` : `${who}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${who} served an agent card at ${A2A_CARD_PATH} that is not JSON: ${snippet(text)}`);
  }
}

/** The A2A card of the agent at `baseUrl` in Pallet's shape; refused when an interface URL fails the default host policy. */
async function fetchA2aCard(baseUrl: string, signal: AbortSignal, headers?: Record<string, string>): Promise<AgentCard> {
  const base = baseUrl.replace(/\/+$/, '');
  const data = await fetchA2aCardJson(base, signal, headers);
  let card: AgentCard;
  try {
    card = a2aCardToPallet(data);
  } catch (err) {
    throw new Error(`agent at ${base} served an invalid A2A agent card: ${(err as Error).message}`);
  }
  const problem = a2aInterfaceProblem(card);
  if (problem) throw new Error(`agent at ${base}: A2A card of ${card.name} refused, not used: ${problem}`);
  return card;
}

/** One call of `skill`: send once (or follow the task an earlier attempt started), follow the task to its end. */
async function callA2a(agent: AgentTarget, skill: string, inputs: Record<string, unknown>, options: CallOptions): Promise<unknown> {
  const who = `agent ${agent.card.name} (${agent.url})`;
  const { signal } = options;
  if (signal.aborted) throw cancellation(signal);
  const client = await clientFor(agent, guardedFetch(who, options));
  const request = { signal };
  let current: TaskRef | undefined;
  const known = (task: TaskRef) => {
    if (current?.taskId === task.taskId) return;
    current = task;
    options.onTask?.(task);
  };
  try {
    let reply: Task | Message;
    if (options.resume) {
      known(options.resume);
      reply = await client.getTask({ tenant: '', id: options.resume.taskId, historyLength: 0 }, request);
    } else if (options.answer) {
      const { taskId, contextId } = options.answer;
      known({ taskId, ...(contextId ? { contextId } : {}) });
      // Answered already (an attempt that crashed after sending it): follow, never answer twice.
      const task = await client.getTask({ tenant: '', id: taskId, historyLength: 0 }, request);
      reply = task.status?.state === TaskState.TASK_STATE_INPUT_REQUIRED ? await client.sendMessage(answerRequest(skill, options), request) : task;
    } else {
      reply = await client.sendMessage(sendRequest(skill, inputs, options.callId), request);
    }
    if (isMessage(reply)) return partsValue(reply.parts);
    known({ taskId: reply.id, ...(reply.contextId ? { contextId: reply.contextId } : {}) });
    return await follow(client, reply, who, signal, known);
  } catch (err) {
    if (signal.aborted) {
      if (current && cancelsTask(signal.reason)) await cancelTask(client, current.taskId);
      throw cancellation(signal);
    }
    throw classify(err, who);
  }
}

/** Polls the task (0.5 s doubling to 5 s) until it ends or asks for something; its output, or the failure it amounts to. */
async function follow(client: Client, first: Task, who: string, signal: AbortSignal, known: (t: TaskRef) => void): Promise<unknown> {
  let task = first;
  for (let wait = POLL_FIRST_MS; ; wait = Math.min(wait * 2, POLL_MAX_MS)) {
    const ref = { taskId: task.id, ...(task.contextId ? { contextId: task.contextId } : {}) };
    known(ref);
    const state = task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED;
    const said = task.status?.message ? partsText(task.status.message.parts) : '';
    const because = said ? `: ${said}` : '';
    switch (state) {
      case TaskState.TASK_STATE_COMPLETED:
        return taskOutput(task);
      case TaskState.TASK_STATE_FAILED:
      case TaskState.TASK_STATE_REJECTED: {
        const verb = state === TaskState.TASK_STATE_FAILED ? 'failed' : 'rejected';
        throw ApplicationFailure.nonRetryable(`${who} ${verb} the task ${task.id}${because}`, FailureTypes.agentSkillError, { taskId: task.id });
      }
      case TaskState.TASK_STATE_CANCELED:
        throw ApplicationFailure.nonRetryable(`${who} canceled the task ${task.id}${because}`, FailureTypes.agentRejected, { taskId: task.id });
      case TaskState.TASK_STATE_AUTH_REQUIRED:
        throw ApplicationFailure.nonRetryable(
          `${who} needs credentials to go on with the task ${task.id} (auth-required${said ? `: ${said}` : ''}); ` +
            "give them for the agent's host in PALLET_AGENT_CREDENTIALS and retry the run",
          FailureTypes.agentRejected,
          { taskId: task.id },
        );
      case TaskState.TASK_STATE_INPUT_REQUIRED:
        throw new InputRequired(ref, said || '(the agent gave no question)', task.status?.message ? dataOf(task.status.message.parts) : undefined);
    }
    await sleep(wait, signal);
    task = await client.getTask({ tenant: '', id: task.id, historyLength: 0 }, { signal });
  }
}

/** A client for the agent's interfaces (as its card lists them), every request through `fetchImpl`. */
function clientFor(agent: AgentTarget, fetchImpl: typeof fetch): Promise<Client> {
  const interfaces = agent.card.a2a?.interfaces ?? [];
  if (interfaces.length === 0) {
    throw ApplicationFailure.nonRetryable(`agent ${agent.card.name} (${agent.url}) has no A2A interfaces on its card`, FailureTypes.agentRejected);
  }
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl, ...LEGACY }), new RestTransportFactory({ fetchImpl, ...LEGACY })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl, ...LEGACY }),
    }),
  );
  return factory.createFromAgentCard({
    name: agent.card.name,
    description: '',
    supportedInterfaces: interfaces.map((i) => ({
      url: i.url,
      protocolBinding: i.protocolBinding,
      protocolVersion: i.protocolVersion ?? '',
      tenant: i.tenant ?? '',
    })),
    provider: undefined,
    version: '',
    capabilities: { extensions: [], streaming: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: [],
    defaultOutputModes: [],
    skills: [],
    signatures: [],
  });
}

function sendRequest(skill: string, inputs: Record<string, unknown>, callId: string) {
  return {
    tenant: '',
    message: userMessage(callId, [dataPart(inputs)], skill),
    // Non-blocking: the task id comes back at once (a blocking send can outlast HTTP timeouts).
    configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: true },
    metadata: undefined,
  };
}

/** The answer to an input-required question, on that task; its messageId is the same for every attempt that sends this answer. */
function answerRequest(skill: string, { callId, answer }: CallOptions) {
  const { taskId, contextId, text, data } = answer!;
  const parts = [...(text !== undefined ? [textPart(text)] : []), ...(data !== undefined ? [dataPart(data)] : [])];
  const message = { ...userMessage(`${callId}/answer/${hashOf(JSON.stringify(answer))}`, parts, skill), taskId, contextId: contextId ?? '' };
  return { ...sendRequest(skill, {}, callId), message };
}

function userMessage(messageId: string, parts: Part[], skill: string): Message {
  return { messageId, role: Role.ROLE_USER, parts, taskId: '', contextId: '', extensions: [], metadata: { skill }, referenceTaskIds: [] };
}

function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function textPart(value: string): Part {
  return { content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function isMessage(reply: Task | Message): reply is Message {
  return 'messageId' in reply && !('status' in reply);
}

/**
 * A completed task's output: one artifact → its parts' value; several → an object by artifact
 * name (its index when unnamed or the name repeats); none → the status message's parts, else null.
 */
export function taskOutput(task: Pick<Task, 'artifacts' | 'status'>): unknown {
  const artifacts = task.artifacts ?? [];
  if (artifacts.length === 0) return task.status?.message ? partsValue(task.status.message.parts) : null;
  if (artifacts.length === 1) return partsValue(artifacts[0].parts);
  const byName: Record<string, unknown> = {};
  artifacts.forEach((a, i) => {
    const key = a.name && !(a.name in byName) ? a.name : String(i);
    byName[key] = partsValue(a.parts);
  });
  return byName;
}

/** Parts as a value: one data part → its value; text parts only → the texts joined by newlines; else a list of each part's value. */
export function partsValue(parts: Part[]): unknown {
  if (parts.length === 1 && parts[0].content?.$case === 'data') return parts[0].content.value ?? null;
  if (parts.length > 0 && parts.every((p) => p.content?.$case === 'text')) return partsText(parts);
  return parts.map(partValue);
}

function partValue(part: Part): unknown {
  const c = part.content;
  const file = { ...(part.filename ? { filename: part.filename } : {}), ...(part.mediaType ? { media_type: part.mediaType } : {}) };
  if (!c) return null;
  if (c.$case === 'text') return c.value;
  if (c.$case === 'data') return c.value ?? null;
  if (c.$case === 'url') return { url: c.value, ...file };
  return { bytes: Buffer.from(c.value).toString('base64'), ...file };
}

function partsText(parts: Part[]): string {
  return parts
    .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
    .filter(Boolean)
    .join('\n');
}

function dataOf(parts: Part[]): unknown {
  const data = parts.filter((p) => p.content?.$case === 'data').map((p) => (p.content as { value: unknown }).value);
  return data.length === 0 ? undefined : data.length === 1 ? data[0] : data;
}

/**
 * Whether an abort means the run no longer wants the task (the activity was cancelled), rather
 * than that this attempt stops (the step's time, a worker shutting down): the next attempt
 * then follows the same task.
 */
function cancelsTask(reason: unknown): boolean {
  if (reason instanceof CancelledFailure) return reason.message === 'CANCELLED';
  return (reason as Error | undefined)?.name !== 'TimeoutError';
}

async function cancelTask(client: Client, taskId: string): Promise<void> {
  try {
    await client.cancelTask({ tenant: '', id: taskId, metadata: undefined }, { signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
  } catch {
    // Best effort: the run is cancelled either way.
  }
}

/** An SDK error as the step's failure: ours pass through; A2A errors are the agent's answer; anything else a reply we cannot read. */
function classify(err: unknown, who: string): unknown {
  if (err instanceof ApplicationFailure || err instanceof InputRequired) return err;
  const e = err as Error & { code?: unknown };
  const message = (e?.message ?? String(err)).slice(0, 500);
  if (e?.name === 'A2AError' || e?.constructor?.name?.startsWith('JsonRpc') || typeof e?.code === 'number') {
    return ApplicationFailure.nonRetryable(`${who} refused the request: ${message}`, FailureTypes.agentRejected);
  }
  return ApplicationFailure.nonRetryable(`${who} gave a reply the A2A client cannot use: ${message}`, FailureTypes.agentBadResponse);
}

interface GuardOptions {
  headers?: Record<string, string>;
  maxReplyBytes: number;
}

/**
 * The fetch every SDK request goes through: the host's headers added (they stay out of the SDK's
 * messages and ours), no redirects, the reply read with a cap, and HTTP failures thrown as the
 * step's: unreachable and 5xx retryable, 3xx and 4xx not. An event stream passes unread.
 */
export function guardedFetch(who: string, { headers, maxReplyBytes }: GuardOptions): typeof fetch {
  return async (input, init) => {
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(headers ?? {})) merged.set(name, value);
    // The request's own signal (the call's, or CancelTask's short one), and ours to stop a reply that is too big.
    const signal = init?.signal ?? new AbortController().signal;
    const request = new AbortController();
    const stop = () => request.abort(signal.reason);
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const response = await fetchNoRedirect(input, { ...init, headers: merged }, who, "A2A agents are called only at their card's URLs", request, signal);
      if (response.status >= 400) {
        const read = await readCapped(response, ERROR_BODY_BYTES, request);
        if (signal.aborted) throw cancellation(signal);
        const text = read.text();
        const suffix = text ? `: ${snippet(text)}` : '';
        if (response.status >= 500) throw ApplicationFailure.retryable(`${who} answered HTTP ${response.status}${suffix}`, FailureTypes.agentServerError);
        throw ApplicationFailure.nonRetryable(`${who} rejected the request with HTTP ${response.status}${suffix}`, FailureTypes.agentRejected);
      }
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
      const text = await readReplyText(response, who, maxReplyBytes, request, signal);
      const type = response.headers.get('content-type');
      return new Response(text, { status: response.status, statusText: response.statusText, headers: type ? { 'content-type': type } : {} });
    } finally {
      signal.removeEventListener('abort', stop);
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancellation(signal));
    const done = () => {
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(cancellation(signal));
    };
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** A short digest of a string: answer messages differ by content, attempts sending the same answer agree. */
function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
