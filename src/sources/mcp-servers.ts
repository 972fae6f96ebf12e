// MCP servers as agents (PALLET_MCP_SERVERS): each configured server is one agent entry that
// speaks protocol `mcp`, named as configured, whose skills are its tools as `name.tool`, so two
// servers' tools of the same name are two skills, never one that the first server takes. A
// server that cannot be listed is a problem, as an unreachable agent is.
import type { AgentCredentials } from '../agents/credentials';
import { fetchMcpCard, MCP_PROTOCOL } from '../agents/mcp';
import type { McpServerSetting } from '../settings';
import type { AgentEntry, AgentSource, SourceListing } from './agents';

/** The origin of the agents at PALLET_MCP_SERVERS. */
export const MCP_ORIGIN = 'PALLET_MCP_SERVERS';

/** How long listing one server's tools (all pages) may take. */
const LIST_TIMEOUT_MS = 10_000;

export class McpAgentSource implements AgentSource {
  constructor(
    /** Checked plain base URLs (settings.ts), in the configured order. */
    private readonly servers: McpServerSetting[],
    /** Headers a server's host requires (PALLET_AGENT_CREDENTIALS). */
    private readonly credentials?: AgentCredentials,
    private readonly timeoutMs = LIST_TIMEOUT_MS,
  ) {}

  describe(): string {
    return `${MCP_ORIGIN} (${this.servers.map((s) => `${s.name}=${s.url}`).join(', ')})`;
  }

  /** One agent per server, in the configured order (listed concurrently). */
  async load(): Promise<SourceListing> {
    const loaded = await Promise.all(
      this.servers.map(async ({ name, url }): Promise<AgentEntry | string> => {
        try {
          const card = await fetchMcpCard(name, url, AbortSignal.timeout(this.timeoutMs), this.credentials?.headersFor(url));
          return { url, card, origin: MCP_ORIGIN, protocol: MCP_PROTOCOL };
        } catch (err) {
          return (err as Error).message;
        }
      }),
    );
    return {
      agents: loaded.filter((a): a is AgentEntry => typeof a !== 'string'),
      problems: loaded.filter((a): a is string => typeof a === 'string'),
    };
  }
}
