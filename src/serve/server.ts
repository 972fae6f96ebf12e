// `pallet serve`'s HTTP server: one express app with the A2A agent at `/` and the MCP server
// at `/mcp`, behind one check of the caller's token. It keeps no state of its own (runs and
// tasks are in Temporal), so several may run behind a load balancer.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentCard } from '@a2a-js/sdk';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import type { Services } from '../services';
import { AGENT_CARD_PATH, ServedRequestHandler, a2aCard, watchCallers } from './a2a';
import type { ServeConfig } from './config';
import type { WorkflowRuns } from './contract';
import { mcpHandler } from './mcp';
import { TemporalWorkflowRuns } from './runs';

// express has no types installed here (no @types/express): the little this uses of it.
interface Request extends http.IncomingMessage {
  path: string;
}
type Next = (err?: unknown) => void;
interface ExpressApp {
  (req: http.IncomingMessage, res: http.ServerResponse): void;
  use(...handlers: unknown[]): void;
  all(path: string, ...handlers: unknown[]): void;
  disable(setting: string): void;
}
const express = require('express') as { (): ExpressApp; json(options: { limit: string }): unknown };

export const MCP_PATH = '/mcp';
/** Largest request body: a run's input must fit one Temporal payload (about 2 MB) anyway. */
const MAX_BODY = '4mb';

export interface ServeServer {
  /** The base URL the server answers at (the A2A agent; MCP at `${url}/mcp`). */
  url: string;
  runs: WorkflowRuns;
  close(): Promise<void>;
}

export interface ServeOptions {
  services: Services;
  config: ServeConfig;
  /** The runs behind the protocols (default: Temporal's, from `services`). */
  runs?: WorkflowRuns;
  log?: (line: string) => void;
}

/** Starts listening; resolves once the server answers. */
export async function startServeServer(opts: ServeOptions): Promise<ServeServer> {
  const { config } = opts;
  const log = opts.log ?? ((line: string) => console.error(line));
  const runs = opts.runs ?? new TemporalWorkflowRuns(opts.services, config, (line) => log(`warning: ${line}`));
  const server = http.createServer();
  // Callers that stream (SubscribeToTask, SendStreamingMessage) may follow a run for hours.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`pallet serve cannot listen on ${config.host}:${config.port} (${err.message}): choose another --port or --host`)),
    );
    server.listen(config.port, config.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = config.publicUrl ?? `http://${host}:${port}`;
  server.on('request', serveApp(runs, config, url, log));
  return {
    url,
    runs,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function serveApp(runs: WorkflowRuns, config: ServeConfig, url: string, log: (line: string) => void): ExpressApp {
  const authenticated = config.tokens.length > 0;
  const handler = new ServedRequestHandler(a2aCard([], { url, authenticated }), runs, log);
  const app = express();
  app.disable('x-powered-by');
  // The card is public (A2A clients read it before anything else): it names the schemes to use.
  const card = async () => a2aCard(await runs.catalog(), { url, authenticated });
  const maxAge = Math.round(config.catalogTtlMs / 1000);
  // A2A 1.0 callers get the card in its JSON form (the SDK's handler writes its internal form,
  // oneofs as `$case`); 0.3 callers, and those that name no version, the SDK's translation.
  app.use(AGENT_CARD_PATH, (req: Request, res: http.ServerResponse, next: Next) => {
    const version = req.headers['a2a-version'];
    if (req.method !== 'GET' || typeof version !== 'string' || version.startsWith('0.')) return next();
    card().then(
      (c) =>
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': `public, max-age=${maxAge}`, vary: 'A2A-Version' })
          .end(JSON.stringify(AgentCard.toJSON(c))),
      next,
    );
  });
  app.use(AGENT_CARD_PATH, agentCardHandler({ agentCardProvider: card, cache: { maxAge }, legacyCompat: { enabled: true } }));
  if (authenticated) app.use(requireToken(config.tokens));
  app.use(express.json({ limit: MAX_BODY }));
  app.all(MCP_PATH, mcpHandler(runs, { log }));
  app.use('/', watchCallers, jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
  return app;
}

/** Every request needs one of `tokens`, as `Authorization: Bearer <token>` or `X-API-Key: <token>`: 401 otherwise. */
export function requireToken(tokens: string[]): (req: Request, res: http.ServerResponse, next: Next) => void {
  const digests = tokens.map(digest);
  return (req, res, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const apiKey = req.headers['x-api-key'];
    const given = bearer ?? (typeof apiKey === 'string' ? apiKey.trim() : undefined);
    // Compared as digests in constant time: how long a wrong token matched says nothing.
    if (given && digests.some((d) => timingSafeEqual(d, digest(given)))) return next();
    const why = given
      ? 'the token given is not one of PALLET_SERVE_TOKENS'
      : 'this server needs a token: send it as "Authorization: Bearer <token>" or "X-API-Key: <token>" (one of PALLET_SERVE_TOKENS)';
    res
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="pallet"' })
      .end(JSON.stringify({ error: `unauthorized: ${why}` }));
  };
}

const digest = (token: string) => createHash('sha256').update(token).digest();
