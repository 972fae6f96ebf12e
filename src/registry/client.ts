// A small client for the OCI distribution API over Node's fetch: enough to pull and push
// ORAS artifacts (manifest + file layers) without spawning the `oras` CLI. Every byte that
// comes back is checked against its digest, and blob sizes are capped, because workflow
// definitions become executable plans.
import { createHash } from 'node:crypto';
import { basicAuthorization, fetchToken, hasPassword, parseChallenge, TokenError, type Credentials, type Token } from './auth';
import { RegistryError, type RegistryErrorCode } from './errors';
import { formatReference, isDigest, parseReference, type Reference } from './reference';

export { RegistryError, isRetryable, type RegistryErrorCode } from './errors';
export type { Credentials } from './auth';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  empty: 'application/vnd.oci.empty.v1+json',
  /** What `oras push` uses when neither --artifact-type nor a config is given. */
  unknownArtifact: 'application/vnd.unknown.artifact.v1',
  /** oras's default media type for a file given without `:type`. */
  defaultLayer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

// distribution 2.8 answers 404 to a manifest request whose Accept lacks the OCI type.
const MANIFEST_ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const PAGE_SIZE = 1000;
const USER_AGENT = 'pallet-temporal (native OCI client)';
/** CNCF distribution refuses deletes unless its config allows them. */
const DELETE_HINT = "deleting needs `storage.delete.enabled: true` in the registry's config (REGISTRY_STORAGE_DELETE_ENABLED=true for its image)";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  /** Inline content (base64), as oras writes for the empty config. */
  data?: string;
  artifactType?: string;
  urls?: string[];
}

/** An OCI image manifest (or Docker schema 2, which has the same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface RegistryClientOptions {
  /** `host[:port]`. */
  registry: string;
  /** Use http:// instead of https:// (automatic for localhost, 127.x and [::1]). */
  plainHttp?: boolean;
  credentials?: Credentials;
  /** Largest blob accepted, in bytes (default 4 MiB): definitions and cards are small. */
  maxBlobBytes?: number;
  /** Per request, including reading the body (default 30 s). */
  timeoutMs?: number;
}

export interface PulledFile {
  name: string;
  mediaType: string;
  digest: string;
  size: number;
  data: Buffer;
}

export interface FileToPush {
  name: string;
  /** Default: oras's `application/vnd.oci.image.layer.v1.tar`. */
  mediaType?: string;
  data: Buffer | string;
}

/** What an operation was doing, for error messages: "while pulling workflows/x:v1". */
interface Op {
  verb: string;
  subject: string;
  scope: string;
  /** What a 404 means for this operation, when not "no such name or tag". */
  notFound?: string;
}

interface SendInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function digestOf(data: Uint8Array, algorithm: string): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '[::1]';
}

/** Go's encoding/json escapes these; doing the same keeps our manifests byte-for-byte like oras's. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The network-level reason of a failed fetch: `ECONNREFUSED`, `ENOTFOUND`, a TLS code… */
function causeCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; errors?: { code?: unknown }[]; message?: unknown } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === 'string') return code;
  return typeof cause?.message === 'string' ? cause.message : (err as Error).message;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  readonly maxBlobBytes: number;
  private readonly timeoutMs: number;
  private readonly credentials?: Credentials;
  /** Bearer tokens by scope. */
  private readonly tokens = new Map<string, Token>();
  /** Set once the registry has asked for Basic auth: then it is sent up front. */
  private basic = false;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry.toLowerCase();
    const plain = options.plainHttp || isLoopback(this.registry);
    this.baseUrl = `${plain ? 'http' : 'https'}://${this.registry}`;
    this.credentials = options.credentials;
    this.maxBlobBytes = options.maxBlobBytes ?? 4 * 1024 * 1024;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Parses a reference with this registry as the default, refusing references to other registries. */
  reference(ref: string | Reference): Reference {
    const parsed = typeof ref === 'string' ? parseReference(ref, this.registry) : ref;
    if (parsed.registry.toLowerCase() !== this.registry) {
      throw new RegistryError(
        `reference ${formatReference(parsed)} is on registry ${parsed.registry}, but this client talks to ${this.registry}; set PALLET_REGISTRY=${parsed.registry}`,
        'invalid_reference',
        formatReference(parsed),
      );
    }
    return parsed;
  }

  /** Digest, media type and size of a manifest: HEAD, or GET when HEAD gives no digest. */
  async resolve(ref: string | Reference): Promise<{ digest: string; mediaType: string; size: number }> {
    const r = this.reference(ref);
    const op = this.pullOp('resolving', r);
    const res = await this.send(op, `/v2/${r.repository}/manifests/${r.digest ?? r.tag}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
    const digest = res.headers.get('docker-content-digest');
    if (res.ok && digest && isDigest(digest)) {
      if (r.digest && digest !== r.digest)
        throw this.fail(op, 'digest_mismatch', `reports digest ${digest}`, { status: res.status, hint: 'the pinned digest does not match' });
      return { digest, mediaType: (res.headers.get('content-type') ?? '').split(';')[0].trim(), size: Number(res.headers.get('content-length') ?? 0) };
    }
    if (res.status === 404 || res.status === 401 || res.status === 403 || res.status === 429 || res.status >= 500) throw await this.statusError(op, res);
    const { digest: got, raw, mediaType } = await this.getManifest(r);
    return { digest: got, mediaType, size: raw.length };
  }

  /** The manifest, checked against the pinned digest and the registry's `Docker-Content-Digest`. */
  async getManifest(ref: string | Reference): Promise<{ digest: string; manifest: ImageManifest; raw: Buffer; mediaType: string }> {
    const r = this.reference(ref);
    const op = this.pullOp('pulling', r);
    const res = await this.send(op, `/v2/${r.repository}/manifests/${r.digest ?? r.tag}`, { headers: { accept: MANIFEST_ACCEPT } });
    if (!res.ok) throw await this.statusError(op, res);
    const raw = await this.readBody(op, res, MAX_MANIFEST_BYTES, 'manifest');
    const computed = sha256(raw);
    for (const expected of [r.digest, res.headers.get('docker-content-digest')]) {
      if (!expected || !isDigest(expected)) continue;
      const actual = expected.startsWith('sha256:') ? computed : digestOf(raw, expected.split(':')[0]);
      if (actual !== expected) {
        throw this.fail(op, 'digest_mismatch', `sent a manifest hashing to ${actual}, not ${expected},`, { hint: 'the registry or a proxy altered it' });
      }
    }
    const manifest = this.parseManifest(op, raw);
    const mediaType = manifest.mediaType ?? (res.headers.get('content-type') ?? '').split(';')[0].trim();
    return { digest: r.digest ?? computed, manifest, raw, mediaType };
  }

  /** A blob, refused above `maxBlobBytes` and checked against the descriptor's size and digest. */
  async getBlob(repository: string, descriptor: Descriptor): Promise<Buffer> {
    const op: Op = {
      verb: 'pulling',
      subject: `blob ${descriptor.digest} of ${repository}`,
      scope: `repository:${repository}:pull`,
      notFound: 'the artifact is incomplete; push it again',
    };
    if (!isDigest(descriptor.digest)) throw this.fail(op, 'invalid_manifest', `listed a blob with the invalid digest "${descriptor.digest}"`);
    if (descriptor.size > this.maxBlobBytes) {
      throw this.fail(op, 'too_large', `lists a blob of ${descriptor.size} bytes, over the limit of ${this.maxBlobBytes},`, { hint: 'it was not downloaded' });
    }
    let data: Buffer;
    if (descriptor.data !== undefined) {
      data = Buffer.from(descriptor.data, 'base64');
    } else {
      const res = await this.send(op, `/v2/${repository}/blobs/${descriptor.digest}`, {});
      if (!res.ok) throw await this.statusError(op, res);
      data = await this.readBody(op, res, this.maxBlobBytes, 'blob');
    }
    const actual = digestOf(data, descriptor.digest.split(':')[0]);
    if (data.length !== descriptor.size || actual !== descriptor.digest) {
      throw this.fail(op, 'digest_mismatch', `sent ${data.length} bytes hashing to ${actual}, not ${descriptor.size} bytes with ${descriptor.digest},`, {
        hint: 'the blob is corrupt or was altered',
      });
    }
    return data;
  }

  /** Uploads a blob in one piece (POST then PUT), unless the registry already has it. */
  async pushBlob(repository: string, data: Buffer | string, mediaType: string): Promise<Descriptor> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const descriptor: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length };
    const op: Op = { verb: 'pushing', subject: `blob ${descriptor.digest} to ${repository}`, scope: `repository:${repository}:pull,push` };
    const head = await this.send(op, `/v2/${repository}/blobs/${descriptor.digest}`, { method: 'HEAD' });
    if (head.ok) return descriptor;
    if (head.status !== 404) throw await this.statusError(op, head);

    const started = await this.send(op, `/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
    if (started.status !== 202) throw await this.statusError(op, started);
    await started.arrayBuffer().catch(() => undefined);
    const location = started.headers.get('location');
    if (!location) throw this.fail(op, 'protocol', 'started an upload without a Location header');
    const target = new URL(location, this.baseUrl);
    target.searchParams.set('digest', descriptor.digest);
    const done = await this.send(op, target, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: bytes,
    });
    if (done.status !== 201) throw await this.statusError(op, done);
    await done.arrayBuffer().catch(() => undefined);
    const stored = done.headers.get('docker-content-digest');
    if (stored && stored !== descriptor.digest) throw this.fail(op, 'digest_mismatch', `stored it as ${stored}`);
    return descriptor;
  }

  /** Uploads a manifest under a tag (or its digest); returns the manifest's digest. */
  async pushManifest(repository: string, tagOrDigest: string, manifest: ImageManifest | Buffer): Promise<string> {
    const raw = Buffer.isBuffer(manifest) ? manifest : Buffer.from(goJson(manifest));
    const digest = sha256(raw);
    const ref: Reference = { registry: this.registry, repository, ...(isDigest(tagOrDigest) ? { digest: tagOrDigest } : { tag: tagOrDigest }) };
    const op: Op = { verb: 'pushing', subject: formatReference(ref, false), scope: `repository:${repository}:pull,push` };
    if (ref.digest && ref.digest !== digest) throw this.fail(op, 'digest_mismatch', `: the manifest's digest is ${digest}, not the one given,`);
    const mediaType = Buffer.isBuffer(manifest) ? this.parseManifest(op, raw).mediaType : manifest.mediaType;
    const res = await this.send(op, `/v2/${repository}/manifests/${tagOrDigest}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType ?? MEDIA_TYPES.ociManifest },
      body: raw,
    });
    if (res.status !== 201 && res.status !== 200) throw await this.statusError(op, res);
    await res.arrayBuffer().catch(() => undefined);
    const stored = res.headers.get('docker-content-digest');
    if (stored && stored !== digest) throw this.fail(op, 'digest_mismatch', `stored it as ${stored}, not ${digest},`);
    return digest;
  }

  /** Every repository (`GET /v2/_catalog`, following `Link` pages). */
  async catalog(): Promise<string[]> {
    const op: Op = {
      verb: 'listing repositories of',
      subject: this.registry,
      scope: 'registry:catalog:*',
      notFound: 'the registry does not offer the catalog API (/v2/_catalog), which listing and agent discovery need',
    };
    return this.paginate(op, `/v2/_catalog?n=${PAGE_SIZE}`, 'repositories', false);
  }

  /** Tags of a repository, following `Link` pages; a repository that does not exist has none. */
  async tags(repository: string): Promise<string[]> {
    const op: Op = { verb: 'listing tags of', subject: repository, scope: `repository:${repository}:pull` };
    return this.paginate(op, `/v2/${repository}/tags/list?n=${PAGE_SIZE}`, 'tags', true);
  }

  /**
   * Deletes a manifest by digest (the registry also removes the tags that point to it); one
   * already gone is not an error. A registry without deletes enabled answers `unsupported`.
   */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    await this.delete(repository, 'manifests', digest, `manifest ${digest} of ${repository}`);
  }

  /** Deletes a blob from a repository; one already gone is not an error. The disk is freed by the registry's garbage collection. */
  async deleteBlob(repository: string, digest: string): Promise<void> {
    await this.delete(repository, 'blobs', digest, `blob ${digest} of ${repository}`);
  }

  /**
   * Manifest and titled layers of an artifact, as `oras pull` would write them (untitled layers
   * are skipped, as oras does). Names are the registry's word: sanitise before writing to disk.
   */
  async pullArtifact(ref: string | Reference): Promise<{ ref: Reference; digest: string; manifest: ImageManifest; files: PulledFile[] }> {
    const r = this.reference(ref);
    const { digest, manifest } = await this.getManifest(r);
    const titled = manifest.layers.filter((l) => l.annotations?.[TITLE_ANNOTATION]);
    const files = await Promise.all(
      titled.map(async (layer) => ({
        name: layer.annotations?.[TITLE_ANNOTATION] ?? '',
        mediaType: layer.mediaType,
        digest: layer.digest,
        size: layer.size,
        data: await this.getBlob(r.repository, layer),
      })),
    );
    return { ref: r, digest, manifest, files };
  }

  /**
   * Pushes files as one artifact with the manifest `oras push host/repo:tag file:type` (oras 1.3)
   * writes: OCI image manifest, artifactType `application/vnd.unknown.artifact.v1`, the empty
   * config `{}` (inline as `data` and uploaded as a blob), one titled layer per file in order,
   * and `org.opencontainers.image.created` (RFC 3339, seconds, UTC) unless given in `annotations`.
   */
  async pushArtifact(
    repository: string,
    tag: string,
    files: FileToPush[],
    annotations: Record<string, string> = {},
  ): Promise<{ digest: string; manifest: ImageManifest }> {
    const config = await this.pushBlob(repository, '{}', MEDIA_TYPES.empty);
    const layers = await Promise.all(
      files.map(async (file) => {
        const d = await this.pushBlob(repository, file.data, file.mediaType ?? MEDIA_TYPES.defaultLayer);
        return { ...d, annotations: { [TITLE_ANNOTATION]: file.name } };
      }),
    );
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: MEDIA_TYPES.unknownArtifact,
      config: { ...config, data: Buffer.from('{}').toString('base64') },
      layers,
      // Go marshals maps with sorted keys.
      annotations: sortedRecord({ [CREATED_ANNOTATION]: created, ...annotations }),
    };
    const digest = await this.pushManifest(repository, tag, manifest);
    return { digest, manifest };
  }

  // ---- plumbing ----

  private async delete(repository: string, kind: 'manifests' | 'blobs', digest: string, subject: string): Promise<void> {
    const op: Op = { verb: 'deleting', subject, scope: `repository:${repository}:delete` };
    if (!isDigest(digest)) throw this.fail(op, 'invalid_reference', `cannot delete by "${digest}", only by digest,`);
    const res = await this.send(op, `/v2/${repository}/${kind}/${digest}`, { method: 'DELETE' });
    if (res.status === 404) return void (await res.arrayBuffer().catch(() => undefined));
    if (!res.ok) throw await this.statusError(op, res);
    await res.arrayBuffer().catch(() => undefined);
  }

  private pullOp(verb: string, r: Reference): Op {
    return { verb, subject: formatReference(r, false), scope: `repository:${r.repository}:pull` };
  }

  /** `registry <host> <problem> while <verb> <subject>; <hint>` (problem reads as a predicate). */
  private fail(op: Op, code: RegistryErrorCode, problem: string, extra: { status?: number; hint?: string; cause?: unknown } = {}): RegistryError {
    const sep = problem.startsWith(':') || problem.startsWith("'") ? '' : ' ';
    const message = `registry ${this.registry}${sep}${problem} while ${op.verb} ${op.subject}${extra.hint ? `; ${extra.hint}` : ''}`;
    return new RegistryError(message, code, this.fullRef(op), extra.status, { cause: extra.cause });
  }

  private fullRef(op: Op): string {
    return op.subject === this.registry ? this.registry : `${this.registry}/${op.subject}`;
  }

  /** A request with authentication: answers a 401 challenge once, then returns whatever came back. */
  private async send(op: Op, path: string | URL, init: SendInit): Promise<Response> {
    const url = typeof path === 'string' ? new URL(path, this.baseUrl) : path;
    const sameOrigin = url.origin === new URL(this.baseUrl).origin;
    const attempt = (authorization: string | undefined) =>
      this.fetchOrFail(op, url, {
        method: init.method ?? 'GET',
        headers: { 'user-agent': USER_AGENT, ...init.headers, ...(authorization && sameOrigin ? { authorization } : {}) },
        body: init.body,
      });

    const first = await attempt(this.authorizationFor(op.scope));
    if (first.status !== 401 || !sameOrigin) return first;
    await first.arrayBuffer().catch(() => undefined);
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    let authorization: string;
    if (challenge?.scheme === 'basic') {
      if (!hasPassword(this.credentials)) throw this.unauthorized(op, 401, 'requires a username and password');
      this.basic = true;
      authorization = basicAuthorization(this.credentials);
    } else if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      authorization = await this.bearer(op, challenge.params);
    } else {
      throw this.unauthorized(op, 401, 'refused access without a usable WWW-Authenticate challenge');
    }
    const second = await attempt(authorization);
    if (second.status === 401) {
      await second.arrayBuffer().catch(() => undefined);
      this.tokens.delete(op.scope);
      throw this.unauthorized(op, 401, this.credentials ? 'rejected the credentials' : 'requires credentials');
    }
    return second;
  }

  private authorizationFor(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token && token.expiresAt > Date.now()) return token.authorization;
    if (this.basic && hasPassword(this.credentials)) return basicAuthorization(this.credentials);
    // A bare token is offered as is first; a Bearer challenge then exchanges it at the realm.
    if (this.credentials && 'token' in this.credentials && !token) return `Bearer ${this.credentials.token}`;
    return undefined;
  }

  private async bearer(op: Op, params: Record<string, string>): Promise<string> {
    const scopes = params.scope ? params.scope.split(' ') : [op.scope];
    try {
      const token = await fetchToken({
        realm: params.realm,
        service: params.service,
        scopes,
        credentials: this.credentials,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      this.tokens.set(op.scope, token);
      return token.authorization;
    } catch (err) {
      if (err instanceof TokenError) {
        if (err.status === 401 || err.status === 403)
          throw this.unauthorized(op, err.status, `'s token service refused ${this.credentials ? 'the credentials' : 'anonymous access'}`);
        throw this.fail(op, err.status && err.status >= 500 ? 'server_error' : 'protocol', `: ${err.message},`, { status: err.status, cause: err });
      }
      throw this.networkError(op, err, `token service ${params.realm}`);
    }
  }

  private unauthorized(op: Op, status: number, why: string): RegistryError {
    return this.fail(op, 'unauthorized', `${why} (HTTP ${status})`, {
      status,
      hint: 'set PALLET_REGISTRY_USERNAME and PALLET_REGISTRY_PASSWORD (or PALLET_REGISTRY_TOKEN), or log in with `docker login`',
    });
  }

  private async fetchOrFail(op: Op, url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw this.networkError(op, err);
    }
  }

  private networkError(op: Op, err: unknown, what = `registry ${this.registry}`): RegistryError {
    if (isTimeout(err)) {
      return new RegistryError(
        `${what} did not answer within ${this.timeoutMs} ms while ${op.verb} ${op.subject}; is it overloaded or unreachable?`,
        'timeout',
        this.fullRef(op),
        undefined,
        { cause: err },
      );
    }
    const code = causeCode(err);
    const tls = /SSL|TLS|EPROTO|CERT|wrong version/i.test(code);
    const hint =
      tls && this.baseUrl.startsWith('https:')
        ? 'if it serves plain HTTP, set PALLET_REGISTRY_PLAIN_HTTP=1'
        : 'is it running? set PALLET_REGISTRY to its host:port';
    return new RegistryError(`${what} is unreachable (${code}) while ${op.verb} ${op.subject}; ${hint}`, 'unreachable', this.fullRef(op), undefined, {
      cause: err,
    });
  }

  /** Maps an unexpected HTTP status to an error, with the registry's own error code if it sent one. */
  private async statusError(op: Op, res: Response): Promise<RegistryError> {
    let detail = '';
    try {
      const body = JSON.parse(await res.text()) as { errors?: { code?: string; message?: string }[] };
      const first = body.errors?.[0];
      if (first) detail = ` (${[first.code, first.message].filter(Boolean).join(': ')})`;
    } catch {
      // Not a JSON error body (or no body, as for HEAD).
    }
    const s = res.status;
    if (s === 401 || s === 403) return this.unauthorized(op, s, `denied access${detail}`);
    if (s === 404) {
      const hint = op.notFound ?? 'check the name and tag, or push it first';
      const what =
        op.subject === this.registry
          ? `registry ${this.registry} answered 404 while ${op.verb} it`
          : `${op.subject} was not found on registry ${this.registry}`;
      return new RegistryError(`${what}${detail}; ${hint}`, 'not_found', this.fullRef(op), s);
    }
    if (s === 405) {
      return this.fail(op, 'unsupported', `does not allow this (HTTP 405)${detail}`, {
        status: s,
        hint: op.verb === 'deleting' ? DELETE_HINT : undefined,
      });
    }
    if (s === 429) return this.fail(op, 'rate_limited', `answered HTTP 429 (too many requests)${detail}`, { status: s, hint: 'try again later' });
    if (s >= 500) return this.fail(op, 'server_error', `failed with HTTP ${s}${detail}`, { status: s, hint: 'try again later' });
    return this.fail(op, 'protocol', `answered an unexpected HTTP ${s}${detail}`, { status: s });
  }

  /** Reads a body, giving up as soon as it exceeds `limit` bytes. */
  private async readBody(op: Op, res: Response, limit: number, what: string): Promise<Buffer> {
    const tooLarge = () => this.fail(op, 'too_large', `sent a ${what} over the limit of ${limit} bytes`, { hint: 'the download was stopped' });
    if (Number(res.headers.get('content-length') ?? 0) > limit) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!res.body) return Buffer.alloc(0);
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > limit) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw this.networkError(op, err);
    }
    return Buffer.concat(chunks, total);
  }

  private parseManifest(op: Op, raw: Buffer): ImageManifest {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      throw this.fail(op, 'invalid_manifest', 'sent a manifest that is not JSON');
    }
    const m = value as Partial<ImageManifest> & { manifests?: unknown };
    if (m.mediaType === MEDIA_TYPES.ociIndex || m.mediaType === MEDIA_TYPES.dockerList || Array.isArray(m.manifests)) {
      throw this.fail(op, 'invalid_manifest', 'sent an image index (several manifests), not a single artifact,');
    }
    const valid = (d: unknown): d is Descriptor => {
      const x = d as Descriptor | null;
      return !!x && typeof x.mediaType === 'string' && typeof x.digest === 'string' && isDigest(x.digest) && Number.isSafeInteger(x.size) && x.size >= 0;
    };
    if (m.schemaVersion !== 2 || !valid(m.config) || !Array.isArray(m.layers) || !m.layers.every(valid)) {
      throw this.fail(op, 'invalid_manifest', 'sent something that is not an OCI image manifest (schemaVersion 2 with config and layers)');
    }
    return m as ImageManifest;
  }

  private async paginate(op: Op, first: string, key: 'repositories' | 'tags', missingIsEmpty: boolean): Promise<string[]> {
    const out: string[] = [];
    const seen = new Set<string>();
    for (let next: URL | undefined = new URL(first, this.baseUrl); next && !seen.has(next.href);) {
      seen.add(next.href);
      const res = await this.send(op, next, {});
      if (res.status === 404 && missingIsEmpty) return [];
      if (!res.ok) throw await this.statusError(op, res);
      const raw = await this.readBody(op, res, MAX_MANIFEST_BYTES, 'listing');
      let page: unknown;
      try {
        page = (JSON.parse(raw.toString('utf8')) as Record<string, unknown>)[key];
      } catch {
        throw this.fail(op, 'protocol', 'sent a listing that is not JSON');
      }
      if (Array.isArray(page)) out.push(...page.filter((x): x is string => typeof x === 'string'));
      // `Link: </v2/_catalog?last=x&n=1000>; rel="next"`
      const link = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(res.headers.get('link') ?? '');
      next = link ? new URL(link[1], next) : undefined;
    }
    return out;
  }
}
