// Pallet's agent protocol: the card at `GET {url}/agent-card`, and a call as JSON-RPC 2.0 at
// `POST {url}/execute` with the skill id as method and the call id as JSON-RPC id and
// Idempotency-Key. The agent's answer decides the failure: transport errors and 5xx are
// retried, a JSON-RPC error, a 4xx, an unknown skill or a garbage reply fail the step at once.
// A reply must carry the JSON-RPC id of the call it answers.
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../contract';
import { agentCardSchema, type AgentCard } from './card';
import { cancellation, fetchNoRedirect, networkReason, readCapped, readReplyText, snippet } from './http-reply';
import { PALLET_PROTOCOL, type AgentProtocol, type AgentTarget, type CallOptions } from './protocol';

/** Of an error reply (HTTP 4xx, 5xx) only the start is read, for its message. */
const ERROR_BODY_BYTES = 64 * 1024;

export const palletJsonRpc: AgentProtocol = {
  name: PALLET_PROTOCOL,
  fetchCard: fetchPalletCard,
  call: invokeSkill,
};

/** Fetches `GET {url}/agent-card`, checking its shape. */
async function fetchPalletCard(url: string, signal: AbortSignal): Promise<AgentCard> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}/agent-card`, { signal, redirect: 'manual' });
  } catch (err) {
    throw new Error(`agent at ${base} is unreachable (${networkReason(err)})`);
  }
  if (!response.ok) throw new Error(`agent at ${base} answered HTTP ${response.status} for /agent-card`);
  const parsed = agentCardSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`agent at ${base} served an invalid agent card: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** One JSON-RPC call to an agent; throws ApplicationFailures classified for retrying. */
async function invokeSkill(
  agent: AgentTarget,
  skill: string,
  params: Record<string, unknown>,
  { callId, signal, maxReplyBytes, headers }: CallOptions,
): Promise<unknown> {
  const who = `agent ${agent.card.name} (${agent.url})`;
  // Aborted when the activity is cancelled, and by us to stop a reply that is too big.
  const request = new AbortController();
  const cancelled = () => request.abort(signal.reason);
  if (signal.aborted) throw cancellation(signal);
  signal.addEventListener('abort', cancelled, { once: true });
  try {
    const response = await fetchNoRedirect(
      `${agent.url}/execute`,
      {
        method: 'POST',
        // Credentials (PALLET_AGENT_CREDENTIALS) first: they may not replace what the protocol needs.
        headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': callId },
        body: JSON.stringify({ jsonrpc: '2.0', method: skill, params, id: callId }),
      },
      who,
      "agents are called only at their card's URL",
      request,
      signal,
    );
    if (response.status >= 400) {
      // Only the start of an error reply matters (its message); its status decides.
      const read = await readCapped(response, ERROR_BODY_BYTES, request);
      if (signal.aborted) throw cancellation(signal);
      const text = read.text();
      if (response.status === 404) {
        throw ApplicationFailure.nonRetryable(`${who} does not offer skill "${skill}" (HTTP 404${errorSuffix(text)})`, FailureTypes.unknownSkill);
      }
      if (response.status >= 500) {
        throw ApplicationFailure.retryable(`${who} answered HTTP ${response.status}${errorSuffix(text)}`, FailureTypes.agentServerError);
      }
      throw ApplicationFailure.nonRetryable(`${who} rejected the call with HTTP ${response.status}${errorSuffix(text)}`, FailureTypes.agentRejected);
    }

    return parseReply(who, await readReplyText(response, who, maxReplyBytes, request, signal), callId);
  } finally {
    signal.removeEventListener('abort', cancelled);
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
    const neither = `${who} returned a JSON-RPC reply with neither "result" nor "error": ${snippet(body)}`;
    throw ApplicationFailure.nonRetryable(neither, FailureTypes.agentBadResponse);
  }
  return rpc.result;
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

/** The message of an error reply (`{"error": {"message"}}`, `{"error"}`, `{"detail"}`), else the start of its text. */
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
