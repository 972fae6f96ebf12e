// Small HTTP servers on 127.0.0.1:0 for the registry client's unit tests: an in-memory OCI
// registry whose behaviour each test can override to misbehave on purpose.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** Returns true when it answered the request; false lets the next handler (the registry) answer. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => boolean | Promise<boolean>;

export interface FakeServer {
  host: string;
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startServer(...handlers: Handler[]): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    for (const h of handlers) if (await h(req, res, Buffer.concat(chunks))) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const digestOf = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  const raw = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw), ...headers }).end(raw);
  return true;
}

/** An in-memory registry: manifests by tag and digest, blobs, uploads, tags (in pages) and catalog, deletes. */
export class MemoryRegistry {
  readonly blobs = new Map<string, Buffer>();
  /** repository → reference (tag or digest) → manifest bytes */
  readonly manifests = new Map<string, Map<string, Buffer>>();
  /** Whether DELETE is allowed (distribution's storage.delete.enabled); else 405 UNSUPPORTED, as distribution answers. */
  deletes = true;
  /** The most tags per page of /tags/list, whatever `n` asks for (a `Link` header points to the next page). */
  pageSize = Infinity;
  /** Whether a manifest whose blobs are not there is refused (400 MANIFEST_BLOB_UNKNOWN), as distribution does. */
  verifyBlobs = false;

  /** Tags of a repository, sorted. */
  tagsOf(repository: string): string[] {
    return [...(this.manifests.get(repository)?.keys() ?? [])].filter((k) => !k.includes(':')).sort();
  }

  putBlob(data: Buffer | string): { digest: string; size: number } {
    const bytes = Buffer.from(data);
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  }

  putManifest(repository: string, tag: string, manifest: unknown): string {
    const raw = Buffer.from(JSON.stringify(manifest));
    const digest = digestOf(raw);
    const refs = this.manifests.get(repository) ?? new Map<string, Buffer>();
    refs.set(tag, raw);
    refs.set(digest, raw);
    this.manifests.set(repository, refs);
    return digest;
  }

  /** An oras-style artifact: empty config, one titled layer per file. */
  putArtifact(repository: string, tag: string, files: { name?: string; mediaType: string; data: string }[]): string {
    const config = this.putBlob('{}');
    return this.putManifest(repository, tag, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.unknown.artifact.v1',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
      layers: files.map((f) => ({
        mediaType: f.mediaType,
        ...this.putBlob(f.data),
        ...(f.name ? { annotations: { 'org.opencontainers.image.title': f.name } } : {}),
      })),
    });
  }

  readonly handler: Handler = (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    if (p === '/v2/' || p === '/v2') return sendJson(res, 200, {});
    if (p === '/v2/_catalog') return sendJson(res, 200, { repositories: [...this.manifests.keys()].sort() });
    let m = /^\/v2\/(.+)\/tags\/list$/.exec(p);
    if (m) {
      const refs = this.manifests.get(m[1]);
      if (!refs) return sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
      const last = url.searchParams.get('last');
      const n = Math.min(Number(url.searchParams.get('n') ?? Infinity), this.pageSize);
      const after = this.tagsOf(m[1]).filter((t) => last === null || t > last);
      const page = after.slice(0, n);
      const headers: Record<string, string> = after.length > n ? { link: `</v2/${m[1]}/tags/list?last=${page[page.length - 1]}&n=${n}>; rel="next"` } : {};
      return sendJson(res, 200, { name: m[1], tags: page }, headers);
    }
    if (req.method === 'DELETE' && !this.deletes) return sendJson(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] });
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(p);
    if (m) {
      if (req.method === 'DELETE') {
        const refs = this.manifests.get(m[1]);
        if (!m[2].includes(':')) return sendJson(res, 400, { errors: [{ code: 'UNSUPPORTED', message: 'delete by tag' }] });
        if (!refs?.has(m[2])) return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
        // As distribution: the manifest goes, and every tag that points to it.
        for (const [ref, raw] of [...refs]) if (digestOf(raw) === m[2]) refs.delete(ref);
        res.writeHead(202).end();
        return true;
      }
      if (req.method === 'PUT') {
        const { config, layers = [] } = JSON.parse(body.toString()) as { config?: { digest: string }; layers?: { digest: string }[] };
        const missing = [config, ...layers].find((d) => d && !this.blobs.has(d.digest));
        if (this.verifyBlobs && missing)
          return sendJson(res, 400, { errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: missing.digest }] });
        const digest = digestOf(body);
        const refs = this.manifests.get(m[1]) ?? new Map<string, Buffer>();
        refs.set(m[2], body).set(digest, body);
        this.manifests.set(m[1], refs);
        res.writeHead(201, { 'docker-content-digest': digest, location: `/v2/${m[1]}/manifests/${digest}` }).end();
        return true;
      }
      const raw = this.manifests.get(m[1])?.get(m[2]);
      if (!raw) return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
      const type = (JSON.parse(raw.toString()) as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
      res.writeHead(200, { 'content-type': type, 'content-length': raw.length, 'docker-content-digest': digestOf(raw) });
      res.end(req.method === 'HEAD' ? undefined : raw);
      return true;
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(p);
    if (m) {
      if (req.method === 'POST') {
        res.writeHead(202, { location: `/v2/${m[1]}/blobs/uploads/u1?_state=abc` }).end();
        return true;
      }
      if (req.method === 'PUT') {
        const digest = url.searchParams.get('digest');
        if (digest !== digestOf(body)) return sendJson(res, 400, { errors: [{ code: 'DIGEST_INVALID' }] });
        this.blobs.set(digest, body);
        res.writeHead(201, { 'docker-content-digest': digest }).end();
        return true;
      }
    }
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(p);
    if (m) {
      if (req.method === 'DELETE') {
        if (!this.blobs.delete(m[2])) return sendJson(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
        res.writeHead(202).end();
        return true;
      }
      const blob = this.blobs.get(m[2]);
      if (!blob) return sendJson(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
      res.writeHead(200, { 'content-length': blob.length, 'docker-content-digest': m[2] });
      res.end(req.method === 'HEAD' ? undefined : blob);
      return true;
    }
    return false;
  };
}
