// Settings, parsed once from the environment into a plain object: the only place that reads
// PALLET_* and TEMPORAL_* variables. Temporal's connection (address, namespace, TLS, API key,
// profiles in temporal.toml) follows Temporal's own environment configuration through
// @temporalio/envconfig; Pallet's own settings are PALLET_* variables (docs/configuration.md).
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import path from 'node:path';
import { DEFAULT_CLAIM_CHECK_BYTES, DEFAULT_MAX_DATA_BYTES } from './claims';
import { DATA_REPOSITORY, registryFromEnv, type RegistrySettings } from './registry';
import { parseAgentCredentials, type AgentCredentials } from './agents/credentials';
import { checkBaseUrl, parseAgentHosts, type HostPattern } from './sources/agent-hosts';

export type Env = Record<string, string | undefined>;

export interface Settings {
  taskQueue: string;
  temporal: { connection: ClientConnectConfig['connectionOptions'] & { address: string }; namespace: string };
  /** The registry holding workflows and agent cards, with its credentials. */
  registry: RegistrySettings;
  /** Base URLs of agents to use before those in the registry. */
  agentUrls: string[];
  /** Hosts registry cards' urls may name (PALLET_AGENT_HOSTS); undefined: any but link-local and metadata addresses. */
  agentHosts?: HostPattern[];
  /** MCP servers whose tools are skills `name.tool` (PALLET_MCP_SERVERS), in the configured order. */
  mcpServers: McpServerSetting[];
  /** Headers (bearer tokens, API keys) to send to agents and MCP servers, per host (PALLET_AGENT_CREDENTIALS). */
  agentCredentials: AgentCredentials;
  /** When set, workflow ids are looked up in this folder instead of the registry. */
  workflowsDir?: string;
  /** Whether agent cards are also discovered from the registry. */
  registryDiscovery: boolean;
  discoveryTtlMs: number;
  /** Address of the Temporal Web UI, for links to runs. */
  uiUrl: string;
  /** Module that writes workflow-specific files into the app folder after `pallet run`. */
  appWriter?: string;
  /** Large data kept out of Temporal's history (docs/large-data.md). */
  claims: ClaimSettings;
}

/** An MCP server as configured: its name (the prefix of its skills) and its Streamable HTTP endpoint, a checked plain base URL. */
export interface McpServerSetting {
  name: string;
  url: string;
}

export interface ClaimSettings {
  /**
   * Parts of an agent's result whose JSON is over this many bytes are stored in the registry
   * and replaced by references (PALLET_CLAIM_CHECK_BYTES, default 256 KiB). Undefined (`off`):
   * nothing is stored, and a result over Temporal's payload limit fails its step.
   */
  checkBytes?: number;
  /** The most bytes of an agent's reply read, and of data read for one call (PALLET_MAX_REPLY_BYTES, default 256 MiB). */
  maxBytes: number;
  /** The registry repository the data goes to (PALLET_DATA_REPOSITORY, default `pallet-data`). */
  repository: string;
}

export function loadSettings(env: Env = process.env): Settings {
  const ttl = Number(env.PALLET_DISCOVERY_TTL ?? 30);
  if (!Number.isFinite(ttl) || ttl < 0) throw new Error(`PALLET_DISCOVERY_TTL must be a number of seconds, not "${env.PALLET_DISCOVERY_TTL}"`);
  return {
    taskQueue: env.PALLET_TASK_QUEUE || 'pallet',
    temporal: temporalSettings(env),
    registry: registryFromEnv(env),
    agentUrls: parseAgentUrls(env.PALLET_AGENT_URLS),
    agentHosts: parseAgentHosts(env.PALLET_AGENT_HOSTS),
    mcpServers: parseMcpServers(env.PALLET_MCP_SERVERS),
    agentCredentials: parseAgentCredentials(env.PALLET_AGENT_CREDENTIALS),
    workflowsDir: env.PALLET_WORKFLOWS_DIR ? path.resolve(env.PALLET_WORKFLOWS_DIR) : undefined,
    registryDiscovery: !/^(0|false|no|off)$/i.test(env.PALLET_REGISTRY_DISCOVERY ?? ''),
    discoveryTtlMs: ttl * 1000,
    uiUrl: (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/+$/, ''),
    appWriter: env.PALLET_APP_WRITER || undefined,
    claims: claimSettings(env),
  };
}

/**
 * PALLET_MCP_SERVERS: comma-separated `name=url`, e.g. `files=http://localhost:9000/mcp`. A name is
 * letters, digits, `_` and `-` (no dot: it is the prefix of the skills `name.tool`), once; a URL
 * is a plain base URL (sources/agent-hosts.ts). Throws naming the malformed entry.
 */
export function parseMcpServers(value: string | undefined): McpServerSetting[] {
  const servers: McpServerSetting[] = [];
  const entries = (value ?? '').split(',').map((e) => e.trim());
  for (const entry of entries.filter(Boolean)) {
    const bad = (why: string) =>
      new Error(`PALLET_MCP_SERVERS: "${entry}" ${why}; write name=url entries separated by commas, e.g. files=http://localhost:9000/mcp`);
    const eq = entry.indexOf('=');
    if (eq < 0) throw bad('has no "="');
    const name = entry.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw bad('has a name that is not letters, digits, "_" or "-"');
    if (servers.some((s) => s.name === name)) throw bad(`names server "${name}" a second time`);
    const base = checkBaseUrl(entry.slice(eq + 1).trim());
    if (!base.ok) throw bad(`is not a plain base URL: ${base.reason}`);
    servers.push({ name, url: base.url });
  }
  return servers;
}

function claimSettings(env: Env): ClaimSettings {
  const off = /^(off|false|no|none)$/i.test((env.PALLET_CLAIM_CHECK_BYTES ?? '').trim());
  const checkBytes = off ? undefined : parseBytes('PALLET_CLAIM_CHECK_BYTES', env.PALLET_CLAIM_CHECK_BYTES, DEFAULT_CLAIM_CHECK_BYTES);
  if (checkBytes !== undefined && checkBytes < 1024)
    throw new Error(`PALLET_CLAIM_CHECK_BYTES must be at least 1024 bytes (or off), not "${env.PALLET_CLAIM_CHECK_BYTES}"`);
  const maxBytes = parseBytes('PALLET_MAX_REPLY_BYTES', env.PALLET_MAX_REPLY_BYTES, DEFAULT_MAX_DATA_BYTES);
  if (maxBytes < 1024) throw new Error(`PALLET_MAX_REPLY_BYTES must be at least 1024 bytes, not "${env.PALLET_MAX_REPLY_BYTES}"`);
  const repository = (env.PALLET_DATA_REPOSITORY || DATA_REPOSITORY).trim().replace(/^\/+|\/+$/g, '');
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new Error(`PALLET_DATA_REPOSITORY must be a registry repository name (lower-case, e.g. pallet-data), not "${env.PALLET_DATA_REPOSITORY}"`);
  }
  return { checkBytes, maxBytes, repository };
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** PALLET_AGENT_URLS: comma-separated base URLs. Parsed here, not in sources/agents, so that reading the settings loads no agent SDK. */
export function parseAgentUrls(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

/** A size: bytes, or with a K, M or G suffix (powers of 1024: `256K`, `64MiB`). */
export function parseBytes(name: string, raw: string | undefined, fallback: number): number {
  const text = (raw ?? '').trim();
  if (!text) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`${name} must be a size in bytes, optionally with K, M or G (powers of 1024), not "${raw}"`);
  return Math.floor(Number(m[1]) * unit);
}

/** Connection options and namespace from TEMPORAL_* variables and the Temporal config file. */
function temporalSettings(env: Env): Settings['temporal'] {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const loaded = loadClientConnectConfig({ profile: env.TEMPORAL_PROFILE, overrideEnvVars: vars });
  return {
    connection: { ...loaded.connectionOptions, address: loaded.connectionOptions.address ?? 'localhost:7233' },
    namespace: loaded.namespace ?? 'default',
  };
}
