// Registry authentication, as Docker and oras do it: the registry answers 401 with a
// `WWW-Authenticate` challenge; `Basic` means "send user:password on every request",
// `Bearer realm=…,service=…,scope=…` means "get a short-lived token from the realm and send it".

export type Credentials = { username: string; password: string } | { token: string };

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses the first Basic or Bearer challenge of a `WWW-Authenticate` header. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(basic|bearer)\b(.*)$/i.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  // Quoted values may contain commas (`scope="repository:a:pull,push"`).
  const param = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let m = param.exec(match[2]); m; m = param.exec(match[2])) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return { scheme: match[1].toLowerCase() as Challenge['scheme'], params };
}

export function basicAuthorization(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export function hasPassword(c: Credentials | undefined): c is { username: string; password: string } {
  return !!c && 'username' in c;
}

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  credentials?: Credentials;
  signal: AbortSignal;
}

export interface Token {
  authorization: string;
  expiresAt: number;
}

export class TokenError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Gets a bearer token from the challenge's realm: a GET with basic credentials (or none, for
 * anonymous pulls), or, for a `{token}` credential, the OAuth2 refresh-token POST Docker uses for
 * `identitytoken`s. Network errors propagate as thrown by fetch, for the caller to classify.
 */
export async function fetchToken(req: TokenRequest): Promise<Token> {
  const url = new URL(req.realm);
  let res: Response;
  if (req.credentials && 'token' in req.credentials) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: req.credentials.token, client_id: 'pallet' });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    res = await fetch(url, { method: 'POST', body: form, signal: req.signal });
  } else {
    if (req.service) url.searchParams.set('service', req.service);
    for (const scope of req.scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = hasPassword(req.credentials) ? { authorization: basicAuthorization(req.credentials) } : {};
    res = await fetch(url, { headers, signal: req.signal });
  }
  const text = await res.text();
  if (!res.ok) throw new TokenError(`token service ${url.origin} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status);
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new TokenError(`token service ${url.origin} did not answer JSON`);
  }
  const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
  if (typeof token !== 'string' || !token) throw new TokenError(`token service ${url.origin} returned no token`);
  // The distribution spec's default lifetime is 60 s; renew a little early.
  const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
  return { authorization: `Bearer ${token}`, expiresAt: Date.now() + Math.max(seconds - 10, 1) * 1000 };
}
