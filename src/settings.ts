// Settings, parsed once from the environment into a plain object: the only place that reads
// PALLET_* and TEMPORAL_* variables. Temporal's connection (address, namespace, TLS, API key,
// profiles in temporal.toml) follows Temporal's own environment configuration through
// @temporalio/envconfig; Pallet's own settings are PALLET_* variables (docs/configuration.md).
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import path from 'node:path';
import { registryFromEnv, type RegistrySettings } from './registry';
import { parseAgentHosts, parseAgentUrls, type HostPattern } from './sources/agents';

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
  /** When set, workflow ids are looked up in this folder instead of the registry. */
  workflowsDir?: string;
  /** Whether agent cards are also discovered from the registry. */
  registryDiscovery: boolean;
  discoveryTtlMs: number;
  /** Address of the Temporal Web UI, for links to runs. */
  uiUrl: string;
  /** Module that writes workflow-specific files into the app folder after `pallet run`. */
  appWriter?: string;
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
    workflowsDir: env.PALLET_WORKFLOWS_DIR ? path.resolve(env.PALLET_WORKFLOWS_DIR) : undefined,
    registryDiscovery: !/^(0|false|no|off)$/i.test(env.PALLET_REGISTRY_DISCOVERY ?? ''),
    discoveryTtlMs: ttl * 1000,
    uiUrl: (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/+$/, ''),
    appWriter: env.PALLET_APP_WRITER || undefined,
  };
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
