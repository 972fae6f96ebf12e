// Configuration from the environment, in one place. Temporal connection settings (address,
// namespace, TLS, API key, profiles in temporal.toml) follow Temporal's own environment
// configuration through @temporalio/envconfig; Pallet's own settings are PALLET_* variables.
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import path from 'node:path';
import { createRegistry, registryFromEnv } from './registry';
import { AgentDirectory, parseAgentUrls, UrlAgentSource, type AgentSource } from './sources/agents';
import { RegistryAgentSource } from './sources/registry-agents';
import { DirectoryStore, RegistryStore, type DefinitionStore } from './sources/definitions';

export interface PalletConfig {
  taskQueue: string;
  /** Base URLs of agents to use beside those in the registry. */
  agentUrls: string[];
  /** Registry host (and port) holding workflows and agent cards. */
  registry: string;
  /** When set, workflow ids are looked up in this folder instead of the registry. */
  workflowsDir?: string;
  /** Whether agent cards are also discovered from the registry. */
  registryDiscovery: boolean;
  discoveryTtlMs: number;
  /** Address of the Temporal Web UI, for links to runs. */
  uiUrl: string;
}

export type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): PalletConfig {
  const workflowsDir = env.PALLET_WORKFLOWS_DIR ? path.resolve(env.PALLET_WORKFLOWS_DIR) : undefined;
  return {
    taskQueue: env.PALLET_TASK_QUEUE || 'pallet',
    agentUrls: parseAgentUrls(env.PALLET_AGENT_URLS),
    registry: registryFromEnv(env).registry,
    workflowsDir,
    registryDiscovery: !/^(0|false|no|off)$/i.test(env.PALLET_REGISTRY_DISCOVERY ?? ''),
    discoveryTtlMs: Number(env.PALLET_DISCOVERY_TTL ?? 30) * 1000,
    uiUrl: (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/+$/, ''),
  };
}

/** Connection options and namespace from TEMPORAL_* variables and the Temporal config file. */
export function temporalConnectConfig(env: Env = process.env): { connection: ClientConnectConfig['connectionOptions']; namespace: string } {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const loaded = loadClientConnectConfig({ profile: env.TEMPORAL_PROFILE, overrideEnvVars: vars });
  return {
    connection: { ...loaded.connectionOptions, address: loaded.connectionOptions.address ?? 'localhost:7233' },
    namespace: loaded.namespace ?? 'default',
  };
}

/** Agents from PALLET_AGENT_URLS first, then the registry's cards: the order skills are looked up in. */
export function createAgentDirectory(config: PalletConfig, env: Env = process.env, onWarning?: (warning: string) => void): AgentDirectory {
  const sources: AgentSource[] = [];
  if (config.agentUrls.length > 0) sources.push(new UrlAgentSource(config.agentUrls));
  if (config.registryDiscovery) sources.push(new RegistryAgentSource(createRegistry(env), config.registry));
  return new AgentDirectory(sources, config.discoveryTtlMs, Date.now, onWarning);
}

export function createDefinitionStore(config: PalletConfig, env: Env = process.env): DefinitionStore {
  if (config.workflowsDir) return new DirectoryStore(config.workflowsDir);
  return new RegistryStore(createRegistry(env), config.registry);
}

/** Web UI address of a workflow run. */
export function runUrl(config: PalletConfig, namespace: string, workflowId: string, runId?: string): string {
  const base = `${config.uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
