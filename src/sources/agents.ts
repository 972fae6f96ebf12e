// Where agents are found: agent cards fetched from configured URLs (PALLET_AGENT_URLS) and
// agent cards stored in the OCI registry, merged into a skill index that is cached for a
// bounded time so that every step does not rediscover every agent.
//
// Which agent a skill goes to is fixed, never by which card arrived first: the agents are
// ordered by source (the configured URLs first, in their configured order, then the
// registry's cards sorted by repository name) and the first one that lists the skill is
// called. A skill that agents of different names offer is reported (`warnings`).
//
// Where calls may go is checked before a card is used (agent-hosts.ts): a card whose address
// is not a plain base URL, or a registry card naming a host PALLET_AGENT_HOSTS does not allow,
// is a problem, not an agent. How a card is read and a call made is the agent's protocol's
// business (src/agents/).
import { a2aProtocol } from '../agents/a2a';
import type { AgentCard, SkillCard } from '../agents/card';
import { palletJsonRpc } from '../agents/pallet-jsonrpc';
import { PALLET_PROTOCOL, type AgentProtocol } from '../agents/protocol';
import { checkBaseUrl, quoteUrl } from './agent-hosts';

export interface AgentEntry {
  /** Base URL calls go to. */
  url: string;
  card: AgentCard;
  /** Where the card came from, e.g. `PALLET_AGENT_URLS` or `registry localhost:5000 agents/plan:v1`. */
  origin: string;
  /** The registry repository the card was read from (registry cards only), e.g. `agents/plan`. */
  repository?: string;
  /** The protocol calls use (src/agents/protocols.ts); absent: Pallet's JSON-RPC. */
  protocol?: string;
}

/** A card that was read but not used: its address is not a plain base URL, or its host is not allowed. */
export interface RefusedCard {
  origin: string;
  repository?: string;
  card: AgentCard;
  /** The problem reported for it (also in the source's `problems`). */
  problem: string;
}

export interface SourceListing {
  /** The agents in this source's fixed order. */
  agents: AgentEntry[];
  /** What could not be read or was refused, one line each. */
  problems: string[];
  /** The cards among the problems that were read but refused. */
  refused?: RefusedCard[];
}

export interface AgentSource {
  describe(): string;
  /** The agents in this source's fixed order, and what could not be read. */
  load(): Promise<SourceListing>;
}

/** What the directory knows: the agents in the order skills are looked up in. */
export interface AgentListing {
  agents: AgentEntry[];
  /** Sources and cards that could not be read, and cards that were refused. */
  problems: string[];
  /** The refused cards (their problems are in `problems` too). */
  refused: RefusedCard[];
  /** Skills offered by agents of different names: which one is called, which are not. */
  warnings: string[];
}

export interface FoundAgent extends AgentEntry {
  skill: SkillCard;
}

export class UnknownSkillError extends Error {
  constructor(
    readonly skill: string,
    readonly knownSkills: string[],
    readonly problems: string[],
  ) {
    const known = knownSkills.length ? knownSkills.join(', ') : 'none';
    const trouble = problems.length ? `; discovery problems: ${problems.join('; ')}` : '';
    super(`no agent offers skill "${skill}" (known skills: ${known})${trouble}`);
    this.name = 'UnknownSkillError';
  }
}

const CARD_TIMEOUT_MS = 5_000;

/** The card of the agent at `url`, as its protocol serves it (Pallet's: `GET {url}/agent-card`). */
export function fetchAgentCard(url: string, protocol: AgentProtocol = palletJsonRpc, timeoutMs = CARD_TIMEOUT_MS): Promise<AgentCard> {
  return protocol.fetchCard(url, AbortSignal.timeout(timeoutMs));
}

/**
 * Agents at fixed base URLs; each one's card is fetched from the agent itself, by the first of
 * `protocols` whose card it serves (default: Pallet's `/agent-card`, then A2A's
 * `/.well-known/agent-card.json`).
 */
export class UrlAgentSource implements AgentSource {
  private readonly protocols: readonly AgentProtocol[];

  constructor(
    private readonly urls: string[],
    protocols: AgentProtocol | readonly AgentProtocol[] = [palletJsonRpc, a2aProtocol],
  ) {
    this.protocols = Array.isArray(protocols) ? protocols : [protocols as AgentProtocol];
  }

  describe(): string {
    return `PALLET_AGENT_URLS (${this.urls.join(', ')})`;
  }

  /**
   * The agents in the configured order (fetched concurrently, listed in order). The operator's
   * URLs are trusted as to their host, but must still be plain base URLs.
   */
  async load(): Promise<SourceListing> {
    const loaded = await Promise.all(
      this.urls.map(async (url): Promise<AgentEntry | string> => {
        const base = checkBaseUrl(url);
        if (!base.ok) return `${CONFIGURED_ORIGIN} ${quoteUrl(url)}: not used: not a plain base URL: ${base.reason}`;
        const failures: string[] = [];
        for (const protocol of this.protocols) {
          try {
            // The configured address wins over the card's own `url`: it is how this worker reaches it.
            const card = await fetchAgentCard(base.url, protocol);
            return { url: base.url, card, origin: CONFIGURED_ORIGIN, ...(protocol.name === PALLET_PROTOCOL ? {} : { protocol: protocol.name }) };
          } catch (err) {
            // An agent that is down is down for every protocol: say so once.
            const message = (err as Error).message;
            if (!failures.includes(message)) failures.push(message);
          }
        }
        return failures.join('; nor as ');
      }),
    );
    return {
      agents: loaded.filter((a): a is AgentEntry => typeof a !== 'string'),
      problems: loaded.filter((a): a is string => typeof a === 'string'),
    };
  }
}

/** The origin of the agents at PALLET_AGENT_URLS. */
export const CONFIGURED_ORIGIN = 'PALLET_AGENT_URLS';

/**
 * A skill index over several sources (in the order given: configured URLs before the
 * registry), rebuilt when older than `ttlMs` or on demand. `onWarning` hears each new
 * warning once (the worker logs them).
 */
export class AgentDirectory {
  private index?: AgentListing & { at: number };
  private loading?: Promise<AgentListing & { at: number }>;
  private readonly warned = new Set<string>();

  constructor(
    private readonly sources: AgentSource[],
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
    private readonly onWarning?: (warning: string) => void,
  ) {}

  invalidate(): void {
    this.index = undefined;
  }

  async agents(): Promise<AgentListing> {
    if (this.index && this.now() - this.index.at < this.ttlMs) return this.index;
    // Concurrent steps share one rebuild instead of each fetching every card.
    this.loading ??= this.rebuild().finally(() => (this.loading = undefined));
    this.index = await this.loading;
    return this.index;
  }

  /** The first agent (in the directory's order) that lists the skill; refreshes once before giving up. */
  async find(skill: string): Promise<FoundAgent> {
    let found = lookupSkill((await this.agents()).agents, skill);
    if (!found) {
      this.invalidate();
      const fresh = await this.agents();
      found = lookupSkill(fresh.agents, skill);
      if (!found) {
        const known = [...new Set(fresh.agents.flatMap((a) => a.card.skills.map((s) => s.id)))].sort();
        // A refused card that does not list the skill cannot be why it is missing: leave it out,
        // so that one bad card does not make every unknown skill look like an outage.
        const irrelevant = new Set(fresh.refused.filter((r) => !r.card.skills.some((s) => s.id === skill)).map((r) => r.problem));
        throw new UnknownSkillError(
          skill,
          known,
          fresh.problems.filter((p) => !irrelevant.has(p)),
        );
      }
    }
    return found;
  }

  private async rebuild(): Promise<AgentListing & { at: number }> {
    const loaded = await Promise.all(this.sources.map((s) => s.load()));
    const agents = loaded.flatMap((l) => l.agents);
    const warnings = sharedSkills(agents).map(formatSharedSkill);
    const refused = loaded.flatMap((l) => l.refused ?? []);
    // Shared skills and refused cards are told once (the worker's log, lint); outages are not.
    for (const w of [...warnings, ...refused.map((r) => r.problem)]) {
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      this.onWarning?.(w);
    }
    return { at: this.now(), agents, problems: loaded.flatMap((l) => l.problems), refused, warnings };
  }
}

/** A skill that agents of different names offer: the one called and the others. */
export interface SharedSkill {
  skill: string;
  chosen: AgentEntry;
  others: AgentEntry[];
}

/**
 * Skills offered by more than one agent, in the order of first appearance. Entries with the
 * same name are one agent reached at several addresses (a configured URL and its registry
 * card): the first address is used, and that is not reported. Two registry cards of the same
 * name in different repositories are two agents, though: the one whose repository sorts first
 * would take the skill over silently.
 */
export function sharedSkills(agents: AgentEntry[]): SharedSkill[] {
  const sameAgent = (a: AgentEntry, b: AgentEntry) => a.card.name === b.card.name && !(a.repository && b.repository && a.repository !== b.repository);
  const bySkill = new Map<string, AgentEntry[]>();
  for (const agent of agents) {
    for (const { id } of agent.card.skills) {
      const offering = bySkill.get(id) ?? [];
      if (!offering.some((a) => sameAgent(a, agent))) offering.push(agent);
      bySkill.set(id, offering);
    }
  }
  return [...bySkill].filter(([, offering]) => offering.length > 1).map(([skill, [chosen, ...others]]) => ({ skill, chosen, others }));
}

export function formatSharedSkill({ skill, chosen, others }: SharedSkill): string {
  const who = (a: AgentEntry) => `${a.card.name} at ${a.url} (${a.origin})`;
  return `skill "${skill}" is offered by ${others.length + 1} agents: ${who(chosen)} is called; not ${others.map(who).join(', nor ')}`;
}

/** The agent a skill goes to: the first in order that lists it. */
export function lookupSkill(agents: AgentEntry[], skill: string): FoundAgent | undefined {
  for (const agent of agents) {
    const card = agent.card.skills.find((s) => s.id === skill);
    if (card) return { ...agent, skill: card };
  }
  return undefined;
}
