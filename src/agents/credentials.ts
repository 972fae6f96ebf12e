// Credentials for agents and MCP servers that require them, from configuration only
// (PALLET_AGENT_CREDENTIALS): per host, the headers to send. They go on the wire and nowhere
// else: never into a history, a memo, a search attribute, a failure message or a log.
import { checkBaseUrl } from '../sources/agent-hosts';

/** One host's credential as configured: a bearer token, or a named header (an API key). */
export type Credential = { bearer: string } | { header: string; value: string };

export class AgentCredentials {
  constructor(
    /** By `host` or `host:port` (as in PALLET_AGENT_HOSTS). */
    private readonly byHost: ReadonlyMap<string, Credential> = new Map(),
  ) {}

  /** The headers to send to `url` (an agent's or MCP server's address): none when its host has no credential. */
  headersFor(url: string): Record<string, string> {
    const base = checkBaseUrl(url);
    if (!base.ok) return {};
    const credential = this.byHost.get(`${base.host}:${base.port}`) ?? this.byHost.get(base.host);
    if (!credential) return {};
    return 'bearer' in credential ? { authorization: `Bearer ${credential.bearer}` } : { [credential.header.toLowerCase()]: credential.value };
  }

  /** Every secret configured, so tests and log filters can check none leaks. */
  secrets(): string[] {
    return [...this.byHost.values()].map((c) => ('bearer' in c ? c.bearer : c.value));
  }
}

/**
 * PALLET_AGENT_CREDENTIALS: a JSON object from `host` or `host:port` to `{"bearer": TOKEN}` or
 * `{"header": NAME, "value": VALUE}`, e.g. `{"agents.example.com": {"bearer": "s3cret"}}`.
 * Throws, naming the entry but never its secret, when it is malformed.
 */
export function parseAgentCredentials(value: string | undefined): AgentCredentials {
  if (!value?.trim()) return new AgentCredentials();
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(
      'PALLET_AGENT_CREDENTIALS is not valid JSON: write {"host[:port]": {"bearer": "TOKEN"}} or {"host": {"header": "X-API-Key", "value": "KEY"}}',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('PALLET_AGENT_CREDENTIALS must be a JSON object keyed by host');
  const byHost = new Map<string, Credential>();
  for (const [host, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const e = entry as Record<string, unknown> | null;
    if (e && typeof e.bearer === 'string' && e.bearer) byHost.set(host.toLowerCase(), { bearer: e.bearer });
    else if (e && typeof e.header === 'string' && /^[A-Za-z0-9-]+$/.test(e.header) && typeof e.value === 'string')
      byHost.set(host.toLowerCase(), { header: e.header, value: e.value });
    else throw new Error(`PALLET_AGENT_CREDENTIALS: the entry for "${host}" must be {"bearer": "TOKEN"} or {"header": "NAME", "value": "VALUE"}`);
  }
  return new AgentCredentials(byHost);
}
