// Where agents are found: agent cards fetched from configured URLs (PALLET_AGENT_URLS) and
// agent cards stored in the OCI registry, merged into a skill index that is cached for a
// bounded time so that every step does not rediscover every agent.
//
// Which agent a skill goes to is fixed, never by which card arrived first: the agents are
// ordered by source (the configured URLs first, in their configured order, then the
// registry's cards sorted by repository name) and the first one that lists the skill is
// called. A skill that agents of different names offer is reported (`warnings`).
//
// Where calls may go is checked before a card is used, on the URL as written (no DNS look-up):
// every agent address must be a plain base URL (http or https, a host, an optional port and
// path prefix; no query, fragment or user info), and a registry card — which anyone who can
// push `agents/*` can write — must name a host that PALLET_AGENT_HOSTS allows; by default any
// host but link-local and cloud metadata addresses. A refused card is a problem, not an agent.
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
  /** The registry repository the card was read from (registry cards only), e.g. `agents/plan`. */
  repository?: string;
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

/** Fetches `GET {url}/agent-card`, checking its shape. */
export async function fetchAgentCard(url: string, timeoutMs = CARD_TIMEOUT_MS): Promise<AgentCard> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}/agent-card`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
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

  /**
   * The agents in the configured order (fetched concurrently, listed in order). The operator's
   * URLs are trusted as to their host, but must still be plain base URLs.
   */
  async load(): Promise<SourceListing> {
    const loaded = await Promise.all(
      this.urls.map(async (url): Promise<AgentEntry | string> => {
        const base = checkBaseUrl(url);
        if (!base.ok) return `${CONFIGURED_ORIGIN} ${quoteUrl(url)}: not used: not a plain base URL: ${base.reason}`;
        try {
          // The configured address wins over the card's own `url`: it is how this worker reaches it.
          return { url: base.url, card: await fetchAgentCard(base.url), origin: CONFIGURED_ORIGIN };
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

/** The origin of the agents at PALLET_AGENT_URLS. */
export const CONFIGURED_ORIGIN = 'PALLET_AGENT_URLS';

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
        // A refused card that does not list the skill cannot be why it is missing: leave it out,
        // so that one bad card does not make every unknown skill look like an outage.
        const irrelevant = new Set(fresh.refused.filter((r) => !r.card.skills.some((s) => s.id === skill)).map((r) => r.problem));
        throw new UnknownSkillError(skill, known, fresh.problems.filter((p) => !irrelevant.has(p)));
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

/** `ECONNREFUSED`-style reason of a failed fetch, else its message. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if ((err as Error)?.name === 'TimeoutError') return 'timed out';
  return cause?.message ?? (err as Error)?.message ?? String(err);
}

// --- Agent addresses: plain base URLs, and the hosts registry cards may name ---------------

/** An agent address that passed `checkBaseUrl`. */
export interface BaseUrl {
  /** `scheme://host[:port][/prefix]` as the URL parser normalises it (lowercase host, no default port), without trailing slashes: where calls go. */
  url: string;
  /** The host as parsed — lowercase, IPv4 in dotted decimal, IPv6 in brackets — without trailing dots. */
  host: string;
  /** The port calls go to: the explicit one, else 80 or 443. */
  port: number;
}

export type BaseUrlCheck = ({ ok: true } & BaseUrl) | { ok: false; reason: string };

/**
 * Whether `value` is a plain base URL — `http` or `https`, `//`, a host, an optional port and
 * an optional path prefix, and nothing else: no query string or fragment (calls append
 * `/execute`, which a `?` or `#` would turn into a parameter), no user info, no whitespace or
 * backslashes (which URL parsers read in surprising ways). Pure: nothing is looked up.
 */
export function checkBaseUrl(value: unknown): BaseUrlCheck {
  const no = (reason: string): BaseUrlCheck => ({ ok: false, reason });
  if (typeof value !== 'string' || value === '') return no('it is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return no('it contains whitespace or control characters');
  if (value.includes('\\')) return no('it contains a backslash');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  if (!scheme) return no('it is not an absolute URL (http://host...)');
  if (!/^https?$/i.test(scheme)) return no(`its scheme is "${scheme}", not http or https`);
  if (!/^https?:\/\//i.test(value)) return no('it has no "//" before the host');
  if (value.includes('?')) return no('it has a query string ("?...")');
  if (value.includes('#')) return no('it has a fragment ("#...")');
  const authority = value.slice(scheme.length + 3).split('/')[0];
  if (authority.includes('@')) return no('it has user info ("user:password@")');
  if (authority === '') return no('it has no host');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return no('its host or port is not valid');
  }
  const host = parsed.hostname.replace(/\.+$/, '');
  if (!host) return no('it has no host');
  return {
    ok: true,
    url: `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`,
    host,
    port: parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80,
  };
}

/** One entry of PALLET_AGENT_HOSTS. */
export interface HostPattern {
  /** As written. */
  text: string;
  /** `*` any host; `*.domain` any host under the domain (not the domain itself); else this host. */
  kind: 'any' | 'subdomains' | 'exact';
  /** The host (for `subdomains`, the domain), normalised as in `BaseUrl.host`; '' for `any`. */
  host: string;
  /** Only this port (80 and 443 count for URLs that leave the port out); undefined: any port. */
  port?: number;
}

/** PALLET_AGENT_HOSTS: comma-separated host patterns; undefined when unset or blank (the default policy). Throws on a malformed entry. */
export function parseAgentHosts(value: string | undefined): HostPattern[] | undefined {
  const items = (value ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return items.length ? items.map(parseHostPattern) : undefined;
}

/** `host`, `host:port`, `[IPv6]`, `[IPv6]:port`, a bare IPv6 address, `*.domain[:port]` or `*[:port]`. */
export function parseHostPattern(text: string): HostPattern {
  const bad = (why: string) =>
    new Error(`PALLET_AGENT_HOSTS: "${text}" is not a host pattern (${why}); write host, host:port, [IPv6]:port, *.domain or *.domain:port, separated by commas`);
  if (/[\s/\\?#@]/.test(text)) throw bad('only a host and an optional port, no scheme, path or user');
  let hostPart = text;
  let portPart: string | undefined;
  if (text.startsWith('[')) {
    const m = /^(\[[^\]]*\])(?::(.*))?$/.exec(text);
    if (!m) throw bad('an IPv6 address in brackets is followed by nothing or :port');
    [, hostPart, portPart] = m;
  } else if ((text.match(/:/g) ?? []).length > 1) {
    hostPart = `[${text}]`; // a bare IPv6 address: no port
  } else if (text.includes(':')) {
    [hostPart, portPart] = text.split(':');
  }
  let port: number | undefined;
  if (portPart !== undefined) {
    port = /^\d{1,5}$/.test(portPart) ? Number(portPart) : NaN;
    if (!(port >= 1 && port <= 65535)) throw bad('the port is not a number from 1 to 65535');
  }
  if (hostPart === '*') return { text, kind: 'any', host: '', port };
  const wildcard = hostPart.startsWith('*.');
  const name = wildcard ? hostPart.slice(2) : hostPart;
  if (name.includes('*')) throw bad('a wildcard is only "*" or a leading "*."');
  let host: string;
  try {
    const parsed = new URL(`http://${name}/`);
    if (parsed.host !== parsed.hostname) throw new Error('port');
    host = parsed.hostname.replace(/\.+$/, '');
  } catch {
    throw bad('not a valid host name or address');
  }
  if (!host) throw bad('no host');
  if (wildcard && isIpHost(host)) throw bad('"*." takes a domain name, not an IP address');
  return { text, kind: wildcard ? 'subdomains' : 'exact', host, port };
}

/** Whether `pattern` covers the address's host and port. */
export function hostMatches(pattern: HostPattern, address: Pick<BaseUrl, 'host' | 'port'>): boolean {
  if (pattern.port !== undefined && pattern.port !== address.port) return false;
  if (pattern.kind === 'any') return true;
  if (pattern.kind === 'exact') return pattern.host === address.host;
  return !isIpHost(address.host) && address.host.endsWith(`.${pattern.host}`);
}

/**
 * Why a host is refused unless PALLET_AGENT_HOSTS names it exactly: link-local addresses
 * (169.254.0.0/16, fe80::/10, also as IPv4-mapped IPv6) and well-known cloud metadata
 * addresses. undefined for any other host.
 */
export function protectedHost(host: string): string | undefined {
  const v4 = ipv4Of(host);
  if (v4 === '169.254.169.254') return 'the cloud metadata address 169.254.169.254';
  if (v4 === '100.100.100.200') return 'a cloud metadata address (Alibaba Cloud)';
  if (v4?.startsWith('169.254.')) return 'a link-local address (169.254.0.0/16)';
  if (v4) return undefined;
  if (host === '[fd00:ec2::254]') return 'a cloud metadata address (AWS, IPv6)';
  if (host === 'metadata.google.internal') return 'a cloud metadata address (Google Cloud)';
  if (host.startsWith('[')) {
    const first = host.startsWith('[::') ? 0 : parseInt(host.slice(1).split(':')[0], 16);
    if ((first & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)';
  }
  return undefined;
}

/**
 * Why a registry card may not send calls to `address`, or undefined when it may. `allowed` is
 * PALLET_AGENT_HOSTS (undefined: any host). Protected hosts (`protectedHost`) need an exact
 * entry either way; a wildcard does not admit them.
 */
export function refusedHost(address: BaseUrl, allowed: HostPattern[] | undefined): string | undefined {
  const hostPort = `${address.host}:${address.port}`;
  const why = protectedHost(address.host);
  if (why) {
    if (allowed?.some((p) => p.kind === 'exact' && hostMatches(p, address))) return undefined;
    return `${hostPort} is ${why}, refused unless PALLET_AGENT_HOSTS lists it exactly`;
  }
  if (!allowed || allowed.some((p) => hostMatches(p, address))) return undefined;
  return `${hostPort} is not allowed by PALLET_AGENT_HOSTS (${allowed.map((p) => p.text).join(', ')})`;
}

/** A URL for a message: quoted, escaped, and cut short. */
export function quoteUrl(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.length > 120 ? `${text.slice(0, 100)}…" (${text.length - 2} characters)` : text;
}

/** An IPv4 literal (as the URL parser writes it), or IPv6 in brackets. */
function isIpHost(host: string): boolean {
  return host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

/** The IPv4 address of an IPv4 host or an IPv4-mapped IPv6 host (`[::ffff:a9fe:a9fe]`). */
function ipv4Of(host: string): string | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (!mapped) return undefined;
  const [hi, lo] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}
