// Reading an agent's HTTP reply without trusting it: a reply is read as a stream with a byte
// cap, never whole into memory, so an agent answering hundreds of megabytes costs the worker
// a few megabytes at most; and the failures of a request named briefly for messages. Shared
// by the protocols that speak HTTP.
import { TextDecoder } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../contract';

export interface CappedRead {
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
export async function readCapped(response: Response, limit: number, request: AbortController): Promise<CappedRead> {
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

/** The announced length of an uncompressed body; undefined when compressed or not given. */
export function contentLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding.trim().toLowerCase() !== 'identity') return undefined;
  const value = response.headers.get('content-length');
  return value !== null && /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

export function tooLarge(who: string, limit: number, how: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${who} replied with more than ${limit} bytes (the limit of a reply; ${how}); have the agent return a reference (URL, object key) instead of the data`,
    FailureTypes.resultTooLarge,
  );
}

/**
 * One request to an agent that never follows a redirect: the call's data goes only to the URL
 * that was checked (PALLET_AGENT_HOSTS). Unreachable → AgentUnavailable (retryable); a redirect →
 * AgentRejected, `calledAt` saying where such agents are called; the signal's reason when the
 * call was cancelled.
 */
export async function fetchNoRedirect(
  url: string | URL | Request,
  init: RequestInit,
  who: string,
  calledAt: string,
  request: AbortController,
  signal: AbortSignal,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: request.signal, redirect: 'manual' });
  } catch (err) {
    if (signal.aborted) throw cancellation(signal);
    throw ApplicationFailure.retryable(`${who} is unreachable (${networkReason(err)})`, FailureTypes.agentUnavailable);
  }
  if (response.status >= 300 && response.status < 400) {
    request.abort();
    const to = response.headers.get('location');
    throw ApplicationFailure.nonRetryable(
      `${who} answered with a redirect (HTTP ${response.status}${to ? ` to ${to.slice(0, 200)}` : ''}); ${calledAt}`,
      FailureTypes.agentRejected,
    );
  }
  return response;
}

/**
 * A successful reply's body as text, read with the cap: refused by its announced length before
 * anything is read (a compressed body's length says nothing: that one is capped as it is read),
 * ResultTooLarge past the cap, AgentUnavailable (retryable) when it broke off, the signal's
 * reason when the call was cancelled meanwhile.
 */
export async function readReplyText(response: Response, who: string, maxReplyBytes: number, request: AbortController, signal: AbortSignal): Promise<string> {
  const announced = contentLength(response);
  if (announced !== undefined && announced > maxReplyBytes) {
    request.abort();
    throw tooLarge(who, maxReplyBytes, `its Content-Length is ${announced}`);
  }
  const read = await readCapped(response, maxReplyBytes, request);
  if (signal.aborted) throw cancellation(signal);
  if (read.over) throw tooLarge(who, maxReplyBytes, `stopped reading after ${read.bytes} bytes`);
  // The connection broke mid-reply: a transport failure, worth another attempt.
  if (read.error !== undefined)
    throw ApplicationFailure.retryable(`${who} broke off its reply after ${read.bytes} bytes (${brokenReason(read.error)})`, FailureTypes.agentUnavailable);
  return read.text();
}

/** What to throw when the activity was cancelled: the reason the SDK gave (a CancelledFailure). */
export function cancellation(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the call was cancelled');
}

/** `ECONNREFUSED`-style reason of a failed fetch, else its message. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if ((err as Error)?.name === 'TimeoutError') return 'timed out';
  return cause?.message ?? (err as Error)?.message ?? String(err);
}

/** Why a body broke off: `ECONNRESET`, `other side closed`, ... */
export function brokenReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code && /^E[A-Z]+$/.test(cause.code)) return cause.code;
  return cause?.message ?? (err as Error)?.message ?? String(err);
}

/** The start of a body for a message, on one line. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat || '(empty body)';
}
