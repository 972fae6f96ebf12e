// The composition root: from the settings, builds once per process what the worker, the
// client and every CLI command share — the registry client, the definition store (a folder
// or the registry), the agent directory, the activities and the Temporal client.
import { createActivities } from './activities';
import type { PalletActivities } from './activities/contract';
import { ClientServices } from './client-services';
import { loadSettings, type Settings } from './settings';
import { AgentDirectory, UrlAgentSource, type AgentSource } from './sources/agents';
import { DirectoryStore, RegistryStore, type DefinitionStore } from './sources/definitions';
import { McpAgentSource } from './sources/mcp-servers';
import { RegistryAgentSource } from './sources/registry-agents';

/** The client's services (client-services.ts) and the worker's: definitions, agents, activities. */
export class Services extends ClientServices {
  private built: {
    definitions?: DefinitionStore;
    agents?: AgentDirectory;
  } = {};

  constructor(
    settings: Settings,
    /** Where warnings go (agents that share a skill, unreadable cards). */
    private readonly warn: (line: string) => void = (line) => console.error(`warning: ${line}`),
  ) {
    super(settings);
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
}

let shared: Services | undefined;

/** This process's services, built from its environment on first use. */
export function services(): Services {
  return (shared ??= new Services(loadSettings()));
}
