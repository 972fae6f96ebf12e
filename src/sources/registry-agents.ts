// Agent cards stored in the OCI registry as `agents/<agent>:v1` (Pallet's discovery), in the
// order of their repository names, so which agent offers a skill first does not depend on
// which card was read first. Anyone who can push `agents/*` writes these cards, so a card is
// used only when its `url` is a plain base URL on a host PALLET_AGENT_HOSTS allows (by
// default any host but link-local and cloud metadata addresses); others are refused, each
// with a problem naming its repository and why. A stored card may be an A2A card (told by its
// shape): it is read as A2A's, every interface URL it names checked the same way.
import type { PalletRegistry } from '../registry';
import { a2aCardToPallet, a2aInterfaceProblem, A2A_PROTOCOL, isA2aCard } from '../agents/a2a';
import { agentCardSchema, type AgentCard } from '../agents/card';
import { checkBaseUrl, quoteUrl, refusedHost, type HostPattern } from './agent-hosts';
import type { AgentEntry, AgentSource, RefusedCard, SourceListing } from './agents';

export class RegistryAgentSource implements AgentSource {
  constructor(
    private readonly registry: PalletRegistry,
    private readonly host: string,
    /** PALLET_AGENT_HOSTS; undefined: the default policy. */
    private readonly allowedHosts?: HostPattern[],
  ) {}

  describe(): string {
    return `registry ${this.host}`;
  }

  async load(): Promise<SourceListing> {
    let listed;
    try {
      listed = await this.registry.listAgentCards();
    } catch (err) {
      return { agents: [], problems: [`registry ${this.host}: ${(err as Error).message}`] };
    }
    const agents: AgentEntry[] = [];
    const refused: RefusedCard[] = [];
    const problems = [...listed.problems];
    const byRepository = [...listed.cards].sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
    for (const entry of byRepository) {
      const where = `registry ${this.host} ${entry.repository}:${entry.tag}`;
      if (isA2aCard(entry.card)) {
        let card: AgentCard;
        try {
          card = a2aCardToPallet(entry.card);
        } catch (err) {
          problems.push(`${where}: invalid A2A agent card: ${(err as Error).message}`);
          continue;
        }
        const why = a2aInterfaceProblem(card, this.allowedHosts);
        if (why) {
          const problem = `${where}: A2A card of ${card.name} refused, not used: ${why}`;
          problems.push(problem);
          refused.push({ origin: where, repository: entry.repository, card, problem });
          continue;
        }
        agents.push({ url: checkedUrl(card.url!), card, origin: where, repository: entry.repository, protocol: A2A_PROTOCOL });
        continue;
      }
      const card = agentCardSchema.safeParse(entry.card);
      if (!card.success) {
        problems.push(`${where}: invalid agent card: ${card.error.issues[0]?.message}`);
        continue;
      }
      if (!card.data.url) {
        problems.push(`${where}: agent card has no "url"`);
        continue;
      }
      const base = checkBaseUrl(card.data.url);
      const why = base.ok ? refusedHost(base, this.allowedHosts) : `not a plain base URL: ${base.reason}`;
      if (!base.ok || why) {
        const problem = `${where}: card of ${card.data.name} refused, not used: url ${quoteUrl(card.data.url)}: ${why}`;
        problems.push(problem);
        refused.push({ origin: where, repository: entry.repository, card: card.data, problem });
        continue;
      }
      agents.push({ url: base.url, card: card.data, origin: where, repository: entry.repository });
    }
    return { agents, problems, refused };
  }
}

/** An interface URL that passed the check, normalised as entries' URLs are. */
function checkedUrl(url: string): string {
  const base = checkBaseUrl(url);
  return base.ok ? base.url : url;
}
