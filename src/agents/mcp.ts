// MCP tools as skills, on the official client (@modelcontextprotocol/sdk, Streamable HTTP).
// A server named in PALLET_MCP_SERVERS is one agent whose skills are its tools, `name.tool`
// (sources/mcp-servers.ts). A call opens a session, sends `tools/call` with the step's inputs as
// arguments and closes the session: a step's call is rare and long next to a handshake, and a
// session per call never outlives a server restart or a change of credentials.
//
// The result is `structuredContent` when the tool gives it, else its content parts (mcpResult).
// `isError: true` fails the step with the tool's text; transport failures are retried, HTTP
// 5xx counted as the server's failures, anything else the server refuses fails the step.
import { ApplicationFailure } from '@temporalio/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { FailureTypes } from '../contract';
import type { AgentCard } from './card';
import { cancellation, networkReason, tooLarge } from './http-reply';
import type { AgentProtocol, AgentTarget, CallOptions } from './protocol';

export const MCP_PROTOCOL = 'mcp';

/** The request id's `_meta` key that carries the step's call id, so a server can recognise a repeated call. */
export const CALL_ID_META = 'pallet/call-id';

/** A tool's call is bounded by the step's timeout (the signal), not by the SDK's 60 s default: the longest timer Node takes. */
const NO_SDK_TIMEOUT_MS = 2 ** 31 - 1;

/** Of an error's text (the tool's message, the server's reply) this much goes into a failure. */
const MESSAGE_CHARS = 2_000;

/** Listing a server's tools gives up after this many pages (a server that pages forever). */
const MAX_TOOL_PAGES = 100;

export const mcpProtocol: AgentProtocol = {
  name: MCP_PROTOCOL,
  // Without a configured name, a server's card is named by its host: skills `host.tool`.
  fetchCard: (url, signal, headers) => fetchMcpCard(new URL(url).host, url, signal, headers),
  call: callTool,
};

/** The card of the MCP server `name` at `url`: one skill `name.tool` per tool, its inputSchema as input_schema. */
export async function fetchMcpCard(name: string, url: string, signal: AbortSignal, headers?: Record<string, string>): Promise<AgentCard> {
  const tools = await listMcpTools(url, signal, headers).catch((err: unknown) => {
    throw new Error(`MCP server ${name} at ${url}: cannot list its tools (${reason(err)})`);
  });
  return {
    name,
    url,
    skills: tools.map((tool) => ({
      id: `${name}.${tool.name}`,
      ...(tool.description || tool.title ? { description: tool.description ?? tool.title } : {}),
      input_schema: tool.inputSchema,
      ...(tool.outputSchema ? { output_schema: tool.outputSchema } : {}),
    })),
  };
}

/** Every tool the server at `url` lists (tools/list, all pages). */
export async function listMcpTools(url: string, signal: AbortSignal, headers?: Record<string, string>): Promise<Tool[]> {
  return withSession(url, { signal, headers }, async (client, session) => {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const listed = await client.listTools(cursor ? { cursor } : undefined, { signal: session });
      tools.push(...listed.tools);
      cursor = listed.nextCursor;
      if (!cursor) return tools;
    }
    throw new Error(`it listed more than ${MAX_TOOL_PAGES} pages of tools`);
  });
}

/** The tool a skill names: the skill without its server's `name.` prefix. */
export function toolOf(card: AgentCard, skill: string): string {
  return skill.startsWith(`${card.name}.`) ? skill.slice(card.name.length + 1) : skill;
}

/** One `tools/call`; throws ApplicationFailures classified for retrying. */
async function callTool(agent: AgentTarget, skill: string, inputs: Record<string, unknown>, options: CallOptions): Promise<unknown> {
  const { callId, signal, headers, maxReplyBytes } = options;
  const tool = toolOf(agent.card, skill);
  const who = `MCP server ${agent.card.name} (${agent.url})`;
  if (signal.aborted) throw cancellation(signal);
  let result: CallToolResult;
  try {
    result = await withSession(agent.url, { signal, headers, maxReplyBytes }, async (client, session) => {
      const reply = (await client.callTool({ name: tool, arguments: inputs, _meta: { [CALL_ID_META]: callId } }, undefined, {
        signal: session,
        timeout: NO_SDK_TIMEOUT_MS,
      })) as CallToolResult;
      // A tool that fails may be one the server no longer has: ask, so that it fails as an unknown skill.
      if (reply.isError && !(await offersTool(client, tool, session))) throw unknownTool(who, tool, errorText(reply));
      return reply;
    });
  } catch (err) {
    if (signal.aborted) throw cancellation(signal);
    throw callFailure(err, who, tool, maxReplyBytes);
  }
  if (result.isError) {
    throw ApplicationFailure.nonRetryable(`${who}: tool "${tool}" reported an error: ${errorText(result)}`, FailureTypes.agentSkillError);
  }
  return mcpResult(result);
}

/**
 * What a tool's result stores as the step's output: its `structuredContent` when present; else,
 * of a single text part, the JSON object or array it holds, or else its text; no parts: null;
 * otherwise the parts as the server sent them (`{type: "text", text}`, `{type: "image", data,
 * mimeType}`, `{type: "resource", resource}`...).
 */
export function mcpResult(result: Pick<CallToolResult, 'content' | 'structuredContent'>): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const parts = result.content ?? [];
  if (parts.length === 0) return null;
  const [only] = parts;
  if (parts.length === 1 && only.type === 'text') {
    const text = only.text;
    if (/^\s*[[{]/.test(text)) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // Not JSON after all: the text.
      }
    }
    return text;
  }
  return parts;
}

interface SessionOptions {
  signal: AbortSignal;
  headers?: Record<string, string>;
  /** Bytes of one HTTP response read at most (its JSON or its SSE stream). */
  maxReplyBytes?: number;
}

/**
 * Runs `work` in a session with the server at `url`, its requests aborted by the signal it is
 * given: connects (initialize), works, ends the session (DELETE, which a server may refuse) and
 * closes. `headers` go on every request, through the transport's requestInit, never into a
 * message. Fails when the reply grows over the limit or its stream breaks off, which the SDK
 * reports only to `onerror`.
 */
async function withSession<T>(url: string, options: SessionOptions, work: (client: Client, signal: AbortSignal) => Promise<T>): Promise<T> {
  // The SDK leaves a listener on the signal of each request: give it one that ends with the session.
  const session = new AbortController();
  const abort = () => session.abort(options.signal.reason);
  if (options.signal.aborted) abort();
  else options.signal.addEventListener('abort', abort, { once: true });
  let broken: (err: unknown) => void = () => {};
  const brokenOff = new Promise<never>((_, reject) => (broken = reject));
  brokenOff.catch(() => {}); // Read by the race below, or not at all once the work is done.
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    // Step data goes only to the configured address: a redirect is refused (HTTP 3xx), never followed.
    requestInit: { headers: options.headers ?? {}, redirect: 'manual' },
    fetch: sessionFetch(options.maxReplyBytes, broken),
  });
  const client = new Client({ name: 'pallet-on-temporal', version: '1' });
  client.onerror = (err) => {
    // A POST's SSE stream that broke off leaves its request waiting forever: end it here.
    if (/^SSE stream disconnected/.test(err.message)) broken(new StreamBrokenOff(err.message));
  };
  try {
    return await Promise.race([
      (async () => {
        await client.connect(transport, { signal: session.signal });
        return work(client, session.signal);
      })(),
      brokenOff,
    ]);
  } finally {
    options.signal.removeEventListener('abort', abort);
    await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }
}

class StreamBrokenOff extends Error {}

class ReplyTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`the reply passed ${bytes} bytes`);
  }
}

/**
 * fetch for the transport: no standalone GET stream (the worker takes no requests from a
 * server: no sampling, no elicitation), so a server's 405 is answered for it; every response
 * body is cut off at `limit` bytes, and `broken` hears of it.
 */
function sessionFetch(limit: number | undefined, broken: (err: unknown) => void) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'GET' && !new Headers(init?.headers).has('last-event-id')) return new Response(null, { status: 405 });
    const response = await fetch(url, init);
    if (limit === undefined || !response.body || [101, 103, 204, 205, 304].includes(response.status)) return response;
    let bytes = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          if (bytes <= limit) return controller.enqueue(chunk);
          const over = new ReplyTooLarge(bytes);
          broken(over);
          controller.error(over);
        },
      }),
    );
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** Whether the server still lists `tool`; when it cannot say, it is taken as listed. */
async function offersTool(client: Client, tool: string, signal: AbortSignal): Promise<boolean> {
  try {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const listed = await client.listTools(cursor ? { cursor } : undefined, { signal });
      if (listed.tools.some((t) => t.name === tool)) return true;
      cursor = listed.nextCursor;
      if (!cursor) return false;
    }
  } catch {
    // Cannot say: the tool's own error stands.
  }
  return true;
}

function unknownTool(who: string, tool: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${who} does not offer tool "${tool}" (${message})`, FailureTypes.unknownSkill);
}

/** An error of a session as the step's failure, by what it says about the server. */
function callFailure(err: unknown, who: string, tool: string, maxReplyBytes: number): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ReplyTooLarge) return tooLarge(who, maxReplyBytes, `stopped reading after ${err.bytes} bytes`);
  if (err instanceof StreamBrokenOff) return ApplicationFailure.retryable(`${who} broke off its reply (${cut(err.message)})`, FailureTypes.agentUnavailable);
  if (err instanceof StreamableHTTPError) {
    const status = err.code ?? -1;
    const text = cut(err.message);
    if (status >= 300 && status < 400)
      return ApplicationFailure.nonRetryable(
        `${who} answered with a redirect (${text}); MCP servers are called only at their configured URL`,
        FailureTypes.agentRejected,
      );
    if (status >= 500) return ApplicationFailure.retryable(`${who} answered HTTP ${status}: ${text}`, FailureTypes.agentServerError);
    if (status >= 400) return ApplicationFailure.nonRetryable(`${who} rejected the call with HTTP ${status}: ${text}`, FailureTypes.agentRejected);
    return ApplicationFailure.nonRetryable(`${who} gave a reply that is not MCP: ${text}`, FailureTypes.agentBadResponse);
  }
  if (err instanceof McpError) {
    if (err.code === ErrorCode.ConnectionClosed)
      return ApplicationFailure.retryable(`${who} closed the connection (${cut(err.message)})`, FailureTypes.agentUnavailable);
    if (err.code === ErrorCode.InvalidParams && /unknown tool|not found/i.test(err.message)) return unknownTool(who, tool, cut(err.message));
    return ApplicationFailure.nonRetryable(`${who} reported an error for tool "${tool}": ${cut(err.message)}`, FailureTypes.agentSkillError, {
      code: err.code,
    });
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return ApplicationFailure.retryable(`${who} is unreachable (${networkReason(err)})`, FailureTypes.agentUnavailable);
  }
  if ((err as Error)?.name === 'ZodError' || err instanceof SyntaxError) {
    return ApplicationFailure.nonRetryable(`${who} gave a reply that is not MCP: ${cut(reason(err))}`, FailureTypes.agentBadResponse);
  }
  return ApplicationFailure.retryable(`${who} failed: ${cut(reason(err))}`, FailureTypes.agentUnavailable);
}

/** The text parts of a tool's error result, joined. */
function errorText(result: CallToolResult): string {
  const text = (result.content ?? [])
    .filter((p): p is Extract<typeof p, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('\n');
  return cut(text || '(no text)');
}

function reason(err: unknown): string {
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) return networkReason(err);
  return (err as Error)?.message ?? String(err);
}

function cut(text: string): string {
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}...` : text;
}
