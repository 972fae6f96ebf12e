// Where agents are found: agent cards fetched from configured URLs (PALLET_AGENT_URLS) and
// agent cards stored in the OCI registry, merged into a skill index that is cached for a
// bounded time so that every step does not rediscover every agent.
//
// Which agent a skill goes to is fixed, never by which card arrived first: the agents are
// ordered by source (the configured URLs first, in their configured order, then the
// registry's cards sorted by repository name) and the first one that lists the skill is
// called. A skill that agents of different names offer is reported (`warnings`).
import { z } from 'zod';

export const agentCardSchema = z.object({
  name: z.string().min(1),
  url: z.string().optional(),
  skills: z.array(
    z.object({
      id: z.string().min(1),
      description: z.string().optional(),
      input_schema: z.record(z.string(), z.unknown()).optional(),
      output_schema: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
export type AgentCard = z.infer<typeof agentCardSchema>;
export type SkillCard = AgentCard['skills'][number];

export interface AgentEntry {
  /** Base URL calls go to. */
  url: string;
  card: AgentCard;
  /** Where the card came from, e.g. `PALLET_AGENT_URLS` or `registry localhost:5000 agents/plan:v1`. */
  origin: string;
}

export interface AgentSource {
  describe(): string;
  /** The agents in this source's fixed order, and what could not be read. */
  load(): Promise<{ agents: AgentEntry[]; problems: string[] }>;
}

/** What the directory knows: the agents in the order skills are looked up in. */
export interface AgentListing {
  agents: AgentEntry[];
  /** Sources and cards that could not be read. */
  problems: string[];
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

/** Fetches `GET {url}/agent-card`, checking its shape. */
export async function fetchAgentCard(url: string, timeoutMs = CARD_TIMEOUT_MS): Promise<AgentCard> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}/agent-card`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`agent at ${base} is unreachable (${networkReason(err)})`);
  }
  if (!response.ok) throw new Error(`agent at ${base} answered HTTP ${response.status} for /agent-card`);
  const parsed = agentCardSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`agent at ${base} served an invalid agent card: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Agents at fixed base URLs; each one's card is fetched from the agent itself. */
export class UrlAgentSource implements AgentSource {
  constructor(private readonly urls: string[]) {}

  describe(): string {
    return `PALLET_AGENT_URLS (${this.urls.join(', ')})`;
  }

  /** The agents in the configured order (fetched concurrently, listed in order). */
  async load(): Promise<{ agents: AgentEntry[]; problems: string[] }> {
    const loaded = await Promise.all(
      this.urls.map(async (url): Promise<AgentEntry | string> => {
        try {
          // The configured address wins over the card's own `url`: it is how this worker reaches it.
          return { url: url.replace(/\/+$/, ''), card: await fetchAgentCard(url), origin: 'PALLET_AGENT_URLS' };
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

export function parseAgentUrls(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

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
        throw new UnknownSkillError(skill, known, fresh.problems);
      }
    }
    return found;
  }

  private async rebuild(): Promise<AgentListing & { at: number }> {
    const loaded = await Promise.all(this.sources.map((s) => s.load()));
    const agents = loaded.flatMap((l) => l.agents);
    const warnings = sharedSkills(agents).map(formatSharedSkill);
    for (const w of warnings) {
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      this.onWarning?.(w);
    }
    return { at: this.now(), agents, problems: loaded.flatMap((l) => l.problems), warnings };
  }
}

/** A skill that agents of different names offer: the one called and the others. */
export interface SharedSkill {
  skill: string;
  chosen: AgentEntry;
  others: AgentEntry[];
}

/**
 * Skills offered by more than one agent name, in the order of first appearance. Entries with
 * the same name are one agent reached at several addresses (a configured URL and its registry
 * card): the first address is used, and that is not reported.
 */
export function sharedSkills(agents: AgentEntry[]): SharedSkill[] {
  const bySkill = new Map<string, AgentEntry[]>();
  for (const agent of agents) {
    for (const { id } of agent.card.skills) {
      const offering = bySkill.get(id) ?? [];
      if (!offering.some((a) => a.card.name === agent.card.name)) offering.push(agent);
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

/** `ECONNREFUSED`-style reason of a failed fetch, else its message. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if ((err as Error)?.name === 'TimeoutError') return 'timed out';
  return cause?.message ?? (err as Error)?.message ?? String(err);
}
