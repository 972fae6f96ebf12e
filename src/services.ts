// The composition root: from the settings, builds once per process what the worker, the
// client and every CLI command share — the registry client, the definition store (a folder
// or the registry), the agent directory, the activities and the Temporal client.
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { createActivities } from './activities';
import { RegistryClaimStore, type ClaimStore } from './claims';
import type { PalletActivities } from './activities/contract';
import { PalletSearchAttributes } from './contract';
import { DataStore, PalletRegistry, RegistryClient } from './registry';
import { loadSettings, type Settings } from './settings';
import { AgentDirectory, UrlAgentSource, type AgentSource } from './sources/agents';
import { DirectoryStore, RegistryStore, type DefinitionStore } from './sources/definitions';
import { McpAgentSource } from './sources/mcp-servers';
import { RegistryAgentSource } from './sources/registry-agents';

/** Per request to the registry's data repository (an upload or download of up to PALLET_MAX_REPLY_BYTES). */
const DATA_TIMEOUT_MS = 5 * 60_000;

export class Services {
  private built: {
    registry?: PalletRegistry;
    claims?: ClaimStore;
    definitions?: DefinitionStore;
    agents?: AgentDirectory;
    temporal?: Promise<{ client: Client; connection: Connection }>;
    searchAttributes?: Promise<boolean>;
  } = {};

  constructor(
    readonly settings: Settings,
    /** Where warnings go (agents that share a skill, unreadable cards). */
    private readonly warn: (line: string) => void = (line) => console.error(`warning: ${line}`),
  ) {}

  get registry(): PalletRegistry {
    return (this.built.registry ??= new PalletRegistry(new RegistryClient(this.settings.registry)));
  }

  /**
   * Where large values of runs are kept (docs/large-data.md): the registry's data repository,
   * through a client of its own whose blob limit is PALLET_MAX_REPLY_BYTES and whose requests
   * may take minutes (a definition's client refuses blobs over 4 MiB).
   */
  get claims(): ClaimStore {
    return (this.built.claims ??= new RegistryClaimStore(
      new DataStore(
        new RegistryClient({ ...this.settings.registry, maxBlobBytes: this.settings.claims.maxBytes, timeoutMs: DATA_TIMEOUT_MS }),
        this.settings.claims.repository,
      ),
    ));
  }

  /** Definitions by workflow id: PALLET_WORKFLOWS_DIR when set, else the registry. */
  get definitions(): DefinitionStore {
    return (this.built.definitions ??= this.settings.workflowsDir
      ? new DirectoryStore(this.settings.workflowsDir)
      : new RegistryStore(this.registry, this.settings.registry.registry));
  }

  /** Agents from PALLET_AGENT_URLS first, then PALLET_MCP_SERVERS, then the registry's cards: the order skills are looked up in. */
  get agents(): AgentDirectory {
    return (this.built.agents ??= (() => {
      const sources: AgentSource[] = [];
      if (this.settings.agentUrls.length > 0) sources.push(new UrlAgentSource(this.settings.agentUrls));
      if (this.settings.mcpServers.length > 0) sources.push(new McpAgentSource(this.settings.mcpServers, this.settings.agentCredentials));
      if (this.settings.registryDiscovery) sources.push(new RegistryAgentSource(this.registry, this.settings.registry.registry, this.settings.agentHosts));
      return new AgentDirectory(sources, this.settings.discoveryTtlMs, Date.now, this.warn);
    })());
  }

  activities(): PalletActivities {
    const { checkBytes, maxBytes } = this.settings.claims;
    return createActivities({
      directory: this.agents,
      definitions: this.definitions,
      credentials: this.settings.agentCredentials,
      ...(checkBytes !== undefined ? { claims: this.claims, claimCheckBytes: checkBytes, maxReplyBytes: maxBytes } : {}),
    });
  }

  /** The Temporal client, connected on first use. */
  temporal(): Promise<{ client: Client; connection: Connection }> {
    return (this.built.temporal ??= (async () => {
      const { connection: options, namespace } = this.settings.temporal;
      // A server that is not there is said within seconds, not after the SDK's 10 s.
      const connection = await Connection.connect({ connectTimeout: '3s', ...options }).catch((err: Error) => {
        throw new Error(`cannot reach Temporal at ${options.address} (${err.message}); start a dev server (npm start) or set TEMPORAL_ADDRESS`);
      });
      return { client: new Client({ connection, namespace }), connection };
    })());
  }

  /**
   * Whether the namespace has all of Pallet's search attributes (contract.ts), as Keyword:
   * asked once per process (operator service), since starting or upserting one it lacks is
   * refused. A server that cannot say (no permission, an error) counts as not having them.
   */
  searchAttributesRegistered(): Promise<boolean> {
    return (this.built.searchAttributes ??= (async () => {
      const { connection } = await this.temporal();
      const keyword = encodeSearchAttributeIndexedValueType('KEYWORD');
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: this.settings.temporal.namespace });
        return Object.values(PalletSearchAttributes).every(({ name }) => customAttributes?.[name] === keyword);
      } catch {
        return false;
      }
    })());
  }

  /** Web UI address of a workflow run: its timeline (the run's steps as bars), or the latest run's page. */
  runUrl(workflowId: string, runId?: string): string {
    const base = `${this.settings.uiUrl}/namespaces/${encodeURIComponent(this.settings.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${base}/${encodeURIComponent(runId)}/timeline` : base;
  }

  async close(): Promise<void> {
    const temporal = this.built.temporal;
    this.built.temporal = undefined;
    this.built.searchAttributes = undefined;
    if (temporal) await (await temporal.catch(() => undefined))?.connection.close();
  }
}

let shared: Services | undefined;

/** This process's services, built from its environment on first use. */
export function services(): Services {
  return (shared ??= new Services(loadSettings()));
}
