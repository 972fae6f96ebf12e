// `pallet serve`'s configuration, from PALLET_SERVE_* variables (docs/serve.md): where it
// listens, who may call it, and which workflows it offers. Read once when the server starts.
import { isIP } from 'node:net';

export interface ServeConfig {
  host: string;
  port: number;
  /** Accepted as `Authorization: Bearer <token>` or `X-API-Key: <token>`; empty: no auth (loopback only). */
  tokens: string[];
  /** Workflow ids or globs (`*`, `?`) to offer; empty: every stored workflow. */
  workflows: string[];
  /** The address callers reach this server at, for the agent card (behind a load balancer); default http://host:port. */
  publicUrl?: string;
  /** How long the catalog (the registry's workflow list) is reused before it is read again. */
  catalogTtlMs: number;
}

export const DEFAULT_SERVE_HOST = '127.0.0.1';
export const DEFAULT_SERVE_PORT = 8010;

type Env = Record<string, string | undefined>;

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The configuration from the environment, with --host / --port given on the command line taking precedence. */
export function loadServeConfig(env: Env = process.env, overrides: { host?: string; port?: string | number } = {}): ServeConfig {
  const host = overrides.host ?? env.PALLET_SERVE_HOST ?? DEFAULT_SERVE_HOST;
  const portText = String(overrides.port ?? env.PALLET_SERVE_PORT ?? DEFAULT_SERVE_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`the port must be a number from 0 to 65535, not "${portText}" (--port or PALLET_SERVE_PORT)`);
  const ttl = Number(env.PALLET_SERVE_CATALOG_TTL ?? 30);
  if (!Number.isFinite(ttl) || ttl < 0) throw new Error(`PALLET_SERVE_CATALOG_TTL must be a number of seconds, not "${env.PALLET_SERVE_CATALOG_TTL}"`);
  const publicUrl = env.PALLET_SERVE_URL?.trim().replace(/\/+$/, '') || undefined;
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new Error(`PALLET_SERVE_URL must be an http(s) URL, not "${publicUrl}"`);
  const config: ServeConfig = { host, port, tokens: list(env.PALLET_SERVE_TOKENS), workflows: list(env.PALLET_SERVE_WORKFLOWS), catalogTtlMs: ttl * 1000 };
  if (publicUrl) config.publicUrl = publicUrl;
  if (config.tokens.length === 0 && !isLoopback(host)) {
    throw new Error(
      `pallet serve refuses to listen on ${host} without authentication: set PALLET_SERVE_TOKENS (comma-separated bearer tokens or API keys), or listen on a loopback address (--host 127.0.0.1)`,
    );
  }
  return config;
}

/** Whether only this machine can reach the address. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Whether a workflow id is offered: listed, matched by a glob, or no list at all. */
export function isServed(id: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => globRegExp(p).test(id));
}

function globRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}
