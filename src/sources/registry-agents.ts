// Agent cards stored in the OCI registry as `agents/<agent>:v1` (Pallet's discovery), in the
// order of their repository names, so which agent offers a skill first does not depend on
// which card was read first.
import type { PalletRegistry } from '../registry';
import { agentCardSchema, type AgentEntry, type AgentSource } from './agents';

export class RegistryAgentSource implements AgentSource {
  constructor(
    private readonly registry: PalletRegistry,
    private readonly host: string,
  ) {}

  describe(): string {
    return `registry ${this.host}`;
  }

  async load(): Promise<{ agents: AgentEntry[]; problems: string[] }> {
    let listed;
    try {
      listed = await this.registry.listAgentCards();
    } catch (err) {
      return { agents: [], problems: [`registry ${this.host}: ${(err as Error).message}`] };
    }
    const agents: AgentEntry[] = [];
    const problems = [...listed.problems];
    const byRepository = [...listed.cards].sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
    for (const entry of byRepository) {
      const card = agentCardSchema.safeParse(entry.card);
      const where = `registry ${this.host} ${entry.repository}:${entry.tag}`;
      if (!card.success) problems.push(`${where}: invalid agent card: ${card.error.issues[0]?.message}`);
      else if (!card.data.url) problems.push(`${where}: agent card has no "url"`);
      else agents.push({ url: card.data.url.replace(/\/+$/, ''), card: card.data, origin: where });
    }
    return { agents, problems };
  }
}
