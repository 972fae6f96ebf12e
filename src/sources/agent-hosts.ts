// Where agent calls may go, checked on the URL as written (no DNS look-up): every agent
// address must be a plain base URL (http or https, a host, an optional port and path prefix;
// no query, fragment or user info), and a registry card — which anyone who can push
// `agents/*` can write — must name a host that PALLET_AGENT_HOSTS allows; by default any host
// but link-local and cloud metadata addresses.

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
    new Error(
      `PALLET_AGENT_HOSTS: "${text}" is not a host pattern (${why}); write host, host:port, [IPv6]:port, *.domain or *.domain:port, separated by commas`,
    );
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
