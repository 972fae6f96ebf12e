// An HTTP server speaking Pallet's agent protocol for one AgentSpec:
//   GET  /agent-card  the card, with `url` set to the address actually served
//   POST /execute     {"jsonrpc":"2.0","method":<skill>,"params":{...},"id":...}
//   GET  /healthz     liveness
// and A2A on the same port (a2a.ts: /.well-known/agent-card.json, /a2a).
// Replies follow Pallet: success and skill failures are HTTP 200 (result / error code -1),
// an unknown skill is HTTP 404, a body that is not a JSON-RPC request is HTTP 400.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { a2aRoutes, isA2aPath } from './a2a';
import { replayKey } from './replay';
import { SkillRunner } from './skill-runner';
import type { AgentCard, AgentSpec } from './types';

export interface AgentServerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** URL to put on the card when the agent is reached under another name (proxy, container). */
  publicUrl?: string;
  /** Handed to the skills (LLM settings, PALLET_PYTHON); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** One line per call, for the `pallet agents` console; default silent. */
  log?: (line: string) => void;
  /** Largest request body accepted, in bytes; default 10 MB. */
  maxBodyBytes?: number;
}

export interface RunningAgent {
  name: string;
  /** The URL on the card: publicUrl if given, else the bound address. */
  url: string;
  /** The address actually bound (differs from `url` only with publicUrl). */
  boundUrl: string;
  card: AgentCard;
  close(): Promise<void>;
}

/** JSON-RPC error codes (the -32xxx are the spec's; -1 is what Pallet's agents use for a failed skill). */
export const RpcCodes = { parseError: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, skillFailed: -1 } as const;

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

export async function startAgentServer(agent: AgentSpec, opts: AgentServerOptions): Promise<RunningAgent> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const runner = new SkillRunner(agent);
  const shutdown = new AbortController();
  let url = '';
  // The same skills over A2A, on the same port (a2a.ts).
  const a2a = a2aRoutes(runner, { urlOf: () => url, env, log, signal: shutdown.signal, maxBodyBytes: maxBody });

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];

    if (path === '/agent-card' && req.method === 'GET') return send(200, cardOf(agent, url));
    if (path === '/healthz' && req.method === 'GET') return send(200, { status: 'ok', agent: agent.name, skills: agent.skills.map((s) => s.id) });
    if (isA2aPath(path)) return a2a(req, res);
    if (path !== '/execute') return send(404, { error: `no route ${req.method} ${path}; try GET /agent-card or POST /execute` });
    if (req.method !== 'POST') return send(405, { error: 'use POST /execute' }, { allow: 'POST' });

    readBody(req, maxBody).then(
      async (raw) => {
        const call = parseRequest(raw);
        if ('status' in call) return send(call.status, call.body);
        const { method, params, id } = call;
        const checked = runner.check(method, params);
        if ('kind' in checked) {
          if (checked.kind === 'unknown-skill') {
            log(`${agent.name}: unknown skill ${method}`);
            return send(404, rpcError(RpcCodes.methodNotFound, checked.message, id));
          }
          return send(200, rpcError(RpcCodes.invalidParams, checked.message, id));
        }
        const started = Date.now();
        try {
          const key = replayKey(req.headers['idempotency-key'], id);
          const { value, replayed } = await runner.run(method, checked.params, key, { id, env, signal: shutdown.signal });
          log(`${agent.name}: ${method} ok in ${Date.now() - started} ms${replayed ? ' (replayed)' : ''}`);
          send(200, { jsonrpc: '2.0', result: value === undefined ? null : value, id }, replayed ? { 'idempotent-replayed': 'true' } : {});
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          log(`${agent.name}: ${method} failed: ${message}`);
          send(200, rpcError(RpcCodes.skillFailed, message, id));
        }
      },
      (err: BodyError) => send(err.status, rpcError(RpcCodes.invalidRequest, err.message, null)),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`${agent.name}: port ${opts.port} is already in use`, { cause: err }) : err);
    });
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const boundUrl = servedUrl(server.address() as AddressInfo);
  url = opts.publicUrl?.replace(/\/+$/, '') ?? boundUrl;

  return {
    name: agent.name,
    url,
    boundUrl,
    card: cardOf(agent, url),
    close: () =>
      new Promise<void>((resolve) => {
        shutdown.abort(new Error(`agent ${agent.name} is shutting down`));
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The card served for an agent: exactly its skills, without the handlers. */
export function cardOf(agent: AgentSpec, url: string): AgentCard {
  return {
    name: agent.name,
    url,
    skills: agent.skills.map(({ id, description, input_schema, output_schema }) => ({ id, description, input_schema, output_schema })),
  };
}

function servedUrl(address: AddressInfo): string {
  // A wildcard bind is reachable on loopback; an IPv6 literal needs brackets in a URL.
  const host = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

type ParsedCall = { method: string; params: Record<string, unknown>; id: unknown } | { status: number; body: unknown };

function parseRequest(raw: string): ParsedCall {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    return { status: 400, body: rpcError(RpcCodes.parseError, `request body is not JSON: ${(err as Error).message}`, null) };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { status: 400, body: rpcError(RpcCodes.invalidRequest, 'request must be a JSON-RPC object (batches are not supported)', null) };
  }
  const rpc = body as Record<string, unknown>;
  const id = rpc.id ?? null;
  if (rpc.jsonrpc !== undefined && rpc.jsonrpc !== '2.0') {
    return { status: 400, body: rpcError(RpcCodes.invalidRequest, `unsupported jsonrpc version ${JSON.stringify(rpc.jsonrpc)}; expected "2.0"`, id) };
  }
  if (typeof rpc.method !== 'string' || !rpc.method) {
    return { status: 400, body: rpcError(RpcCodes.invalidRequest, '"method" must be the skill id, a non-empty string', id) };
  }
  const params = rpc.params ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    return { status: 200, body: rpcError(RpcCodes.invalidParams, '"params" must be an object of named inputs', id) };
  }
  return { method: rpc.method, params: params as Record<string, unknown>, id };
}

function rpcError(code: number, message: string, id: unknown) {
  return { jsonrpc: '2.0', error: { code, message }, id };
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Drain the rest so the 413 reply can still be written on this connection.
        // Keep reading (and dropping) the rest so the 413 reply can still be written.
        chunks.length = 0;
        reject(new BodyError(413, `request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (err) => reject(new BodyError(400, err.message)));
  });
}
