// The registry client against small servers that misbehave on purpose.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { isRetryable, PalletRegistry, RegistryClient, RegistryError, type RegistryErrorCode } from '../../../src/registry';
import { freePort } from '../../helpers/registry';
import { digestOf, MemoryRegistry, sendJson, startServer, type FakeServer, type Handler } from './fake-server';

const YAML = 'metadata:\n  id: demo-v1\n  name: Demo\nsteps: []\n';

function expectError(code: RegistryErrorCode, ...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof RegistryError, `expected a RegistryError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should mention "${f}"`);
    return true;
  };
}

const path = (req: http.IncomingMessage) => new URL(req.url ?? '/', 'http://x').pathname;

describe('RegistryClient', () => {
  let servers: FakeServer[] = [];
  async function serve(...handlers: Handler[]): Promise<FakeServer> {
    const s = await startServer(...handlers);
    servers.push(s);
    return s;
  }
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  it('uses plain HTTP for loopback hosts and HTTPS otherwise', () => {
    assert.equal(new RegistryClient({ registry: 'localhost:5000' }).baseUrl, 'http://localhost:5000');
    assert.equal(new RegistryClient({ registry: '127.0.0.2:80' }).baseUrl, 'http://127.0.0.2:80');
    assert.equal(new RegistryClient({ registry: '[::1]:5000' }).baseUrl, 'http://[::1]:5000');
    assert.equal(new RegistryClient({ registry: 'ghcr.io' }).baseUrl, 'https://ghcr.io');
    assert.equal(new RegistryClient({ registry: 'reg.lan:5000', plainHttp: true }).baseUrl, 'http://reg.lan:5000');
  });

  it('pushes and pulls an artifact, verifying digests', async () => {
    const mem = new MemoryRegistry();
    const s = await serve(mem.handler);
    const client = new RegistryClient({ registry: s.host });
    const pushed = await client.pushArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
    const pulled = await client.pullArtifact('workflows/demo:v1');
    assert.equal(pulled.digest, pushed.digest);
    assert.deepEqual(
      pulled.files.map((f) => [f.name, f.mediaType, f.data.toString()]),
      [['demo.yaml', 'application/yaml', YAML]],
    );
    // Pushing the same blobs again skips their upload (HEAD says they exist).
    const posts = () => s.requests.filter((r) => r.method === 'POST').length;
    const before = posts();
    await client.pushArtifact('workflows/demo', 'v2', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
    assert.equal(posts(), before);
    assert.deepEqual(await client.resolve(`workflows/demo@${pushed.digest}`), {
      digest: pushed.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: Buffer.byteLength(JSON.stringify(pushed.manifest)),
    });
  });

  it('resolve falls back to GET when HEAD gives no digest', async () => {
    const mem = new MemoryRegistry();
    const digest = mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
    const s = await serve((req, res) => {
      if (req.method !== 'HEAD') return false;
      res.writeHead(405).end();
      return true;
    }, mem.handler);
    assert.equal((await new RegistryClient({ registry: s.host }).resolve('workflows/demo:v1')).digest, digest);
  });

  describe('authentication', () => {
    it('answers a Bearer challenge with a token from the realm (basic credentials), and reuses it', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      const tokenRequests: URL[] = [];
      const auth = await serve((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        tokenRequests.push(url);
        if (req.headers.authorization !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) return sendJson(res, 401, {});
        return sendJson(res, 200, { token: `tok-${url.searchParams.get('scope')}`, expires_in: 300 });
      });
      const registry: FakeServer = await serve((req, res) => {
        const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(path(req))?.[1];
        if (req.headers.authorization === `Bearer tok-repository:${repo}:pull`) return false;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${auth.url}/token",service="${registry.host}",scope="repository:${repo}:pull"` }).end();
        return true;
      }, mem.handler);
      const store = new PalletRegistry(new RegistryClient({ registry: registry.host, credentials: { username: 'bob', password: 'pw' } }));
      const pulled = await store.pullWorkflow('demo-v1');
      assert.equal(pulled.text, YAML);
      assert.equal(tokenRequests.length, 1, 'the token is fetched once and reused for the blob');
      assert.equal(tokenRequests[0].searchParams.get('service'), registry.host);
      assert.equal(tokenRequests[0].searchParams.get('scope'), 'repository:workflows/demo:pull');

      const anonymous = new RegistryClient({ registry: registry.host });
      await assert.rejects(
        anonymous.getManifest('workflows/demo:v1'),
        expectError('unauthorized', 'token service refused anonymous access', 'PALLET_REGISTRY_USERNAME'),
      );
    });

    it('exchanges a {token} credential at the realm as an OAuth2 refresh token', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      let form: URLSearchParams | undefined;
      const auth = await serve((req, res, body) => {
        form = new URLSearchParams(body.toString());
        return sendJson(res, 200, { access_token: 'exchanged' });
      });
      const registry = await serve((req, res) => {
        if (req.headers.authorization === 'Bearer exchanged') return false;
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${auth.url}/token",service="svc"` }).end();
        return true;
      }, mem.handler);
      const client = new RegistryClient({ registry: registry.host, credentials: { token: 'refresh-me' } });
      await client.getManifest('workflows/demo:v1');
      assert.equal(form?.get('grant_type'), 'refresh_token');
      assert.equal(form?.get('refresh_token'), 'refresh-me');
      assert.equal(form?.get('scope'), 'repository:workflows/demo:pull');
      assert.equal(registry.requests[0].headers.authorization, 'Bearer refresh-me', 'the bare token is offered first');
    });

    it('answers a Basic challenge with the credentials, and sends them up front afterwards', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      const good = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
      const s = await serve((req, res) => {
        if (req.headers.authorization === good) return false;
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
        return true;
      }, mem.handler);
      const client = new RegistryClient({ registry: s.host, credentials: { username: 'alice', password: 's3cret' } });
      await client.pullArtifact('workflows/demo:v1');
      assert.equal(s.requests.filter((r) => r.headers.authorization === undefined).length, 1, 'only the first request goes without credentials');

      await assert.rejects(
        new RegistryClient({ registry: s.host }).getManifest('workflows/demo:v1'),
        expectError('unauthorized', 'requires a username and password', 'workflows/demo:v1'),
      );
      const wrong = new RegistryClient({ registry: s.host, credentials: { username: 'alice', password: 'nope' } });
      await assert.rejects(wrong.getManifest('workflows/demo:v1'), expectError('unauthorized', 'rejected the credentials'));
    });

    it('401 without a challenge and 403 are unauthorized, and not retryable', async () => {
      const s = await serve((req, res) => {
        res.writeHead(path(req).includes('/a/') ? 401 : 403).end();
        return true;
      });
      const client = new RegistryClient({ registry: s.host });
      await assert.rejects(client.getManifest('a/x:v1'), (err) => expectError('unauthorized')(err) && !isRetryable(err));
      await assert.rejects(client.getManifest('b/x:v1'), expectError('unauthorized', 'denied access (HTTP 403)'));
    });
  });

  describe('integrity and limits', () => {
    it('rejects a manifest whose bytes do not match Docker-Content-Digest', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      const s = await serve((req, res) => {
        if (!path(req).includes('/manifests/')) return false;
        const raw = mem.manifests.get('workflows/demo')?.get('v1') ?? Buffer.alloc(0);
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digestOf('something else') }).end(raw);
        return true;
      }, mem.handler);
      await assert.rejects(new RegistryClient({ registry: s.host }).getManifest('workflows/demo:v1'), expectError('digest_mismatch', 'workflows/demo:v1'));
    });

    it('rejects a manifest that does not match the pinned digest', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      const pinned = `sha256:${'0'.repeat(64)}`;
      const s = await serve((req, res) => {
        if (!path(req).includes('/manifests/')) return false;
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(mem.manifests.get('workflows/demo')?.get('v1'));
        return true;
      });
      await assert.rejects(new RegistryClient({ registry: s.host }).getManifest(`workflows/demo@${pinned}`), expectError('digest_mismatch', pinned));
    });

    it('rejects a blob whose content was altered', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      const s = await serve((req, res) => {
        if (!path(req).includes(`/blobs/${digestOf(YAML)}`)) return false;
        res.writeHead(200).end(YAML.replace('Demo', 'Evil'));
        return true;
      }, mem.handler);
      await assert.rejects(
        new PalletRegistry(new RegistryClient({ registry: s.host })).pullWorkflow('demo-v1'),
        expectError('digest_mismatch', digestOf(YAML)),
      );
    });

    it('refuses a blob whose descriptor is over maxBlobBytes without downloading it', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: 'x'.repeat(2000) }]);
      const s = await serve(mem.handler);
      const client = new RegistryClient({ registry: s.host, maxBlobBytes: 1000 });
      await assert.rejects(client.pullArtifact('workflows/demo:v1'), expectError('too_large', '2000 bytes', '1000'));
      assert.ok(!s.requests.some((r) => r.url.includes(digestOf('x'.repeat(2000)))), 'the blob was not requested');
    });

    it('stops a download that grows past maxBlobBytes', async () => {
      let closedEarly = false;
      const s = await serve((req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // An endless body: the client must hang up.
        const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024, 120)), 1);
        res.on('close', () => {
          clearInterval(timer);
          closedEarly = !res.writableFinished;
        });
        return true;
      });
      const client = new RegistryClient({ registry: s.host, maxBlobBytes: 64 * 1024 });
      await assert.rejects(
        client.getBlob('workflows/demo', { mediaType: 'application/yaml', digest: digestOf('small'), size: 5 }),
        expectError('too_large', 'download was stopped'),
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(closedEarly, 'the connection was closed by the client');
    });

    it('refuses a body larger than announced by Content-Length up front', async () => {
      const s = await serve((req, res) => {
        res.writeHead(200, { 'content-length': 10_000 }).end('y'.repeat(10_000));
        return true;
      });
      await assert.rejects(
        new RegistryClient({ registry: s.host, maxBlobBytes: 100 }).getBlob('r', { mediaType: 'a/b', digest: digestOf('z'), size: 1 }),
        expectError('too_large'),
      );
    });
  });

  describe('HTTP errors', () => {
    it('404 is not_found naming the reference; tags of a missing repository are []', async () => {
      const s = await serve(new MemoryRegistry().handler);
      const client = new RegistryClient({ registry: s.host });
      await assert.rejects(
        client.getManifest('workflows/code-generation:v9'),
        (err) => expectError('not_found', 'workflows/code-generation:v9', s.host, 'MANIFEST_UNKNOWN')(err) && !isRetryable(err),
      );
      assert.deepEqual(await client.tags('workflows/nothing'), []);
    });

    it('a registry without the catalog API says so', async () => {
      const s = await serve(() => false);
      await assert.rejects(
        new RegistryClient({ registry: s.host }).catalog(),
        expectError('not_found', 'answered 404 while listing repositories', 'catalog API'),
      );
    });

    it('5xx is server_error and 429 rate_limited, both retryable', async () => {
      const s = await serve((req, res) => {
        if (path(req).includes('busy')) return sendJson(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] });
        return sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: 'disk on fire' }] });
      });
      const client = new RegistryClient({ registry: s.host });
      await assert.rejects(
        client.getManifest('workflows/x:v1'),
        (err) => expectError('server_error', 'HTTP 500', 'disk on fire', 'workflows/x:v1')(err) && isRetryable(err),
      );
      await assert.rejects(client.getManifest('workflows/busy:v1'), (err) => expectError('rate_limited', 'slow down')(err) && isRetryable(err));
    });

    it('an unreachable registry is unreachable (retryable), naming host and reference', async () => {
      const port = await freePort();
      const store = new PalletRegistry(new RegistryClient({ registry: `127.0.0.1:${port}` }));
      await assert.rejects(
        store.pullWorkflow('code-generation-v1'),
        (err) =>
          expectError('unreachable', `registry 127.0.0.1:${port} is unreachable (ECONNREFUSED)`, 'workflows/code-generation:v1', 'PALLET_REGISTRY')(err) &&
          isRetryable(err),
      );
    });

    it('a registry that does not answer times out (retryable)', async () => {
      const s = await serve(() => new Promise<boolean>(() => undefined));
      const client = new RegistryClient({ registry: s.host, timeoutMs: 200 });
      await assert.rejects(client.getManifest('workflows/x:v1'), (err) => expectError('timeout', '200 ms')(err) && isRetryable(err));
    });

    it('a reference to another registry is refused', () => {
      const client = new RegistryClient({ registry: 'localhost:5000' });
      assert.throws(() => client.reference('other.io/workflows/x:v1'), expectError('invalid_reference', 'other.io'));
    });
  });

  describe('manifests', () => {
    it('an image index is invalid_manifest', async () => {
      const mem = new MemoryRegistry();
      mem.putManifest('workflows/demo', 'v1', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
      const s = await serve(mem.handler);
      await assert.rejects(new RegistryClient({ registry: s.host }).getManifest('workflows/demo:v1'), expectError('invalid_manifest', 'image index'));
    });

    it('a workflow without a YAML layer is invalid_manifest naming the reference', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'readme.txt', mediaType: 'text/plain', data: 'hi' }]);
      const s = await serve(mem.handler);
      await assert.rejects(
        new PalletRegistry(new RegistryClient({ registry: s.host })).pullWorkflow('demo-v1'),
        expectError('invalid_manifest', 'workflows/demo:v1', 'readme.txt'),
      );
    });

    it('accepts a YAML layer recognised by its title alone', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v1', [
        { name: 'notes.txt', mediaType: 'text/plain', data: 'hi' },
        { name: 'demo.yml', mediaType: 'application/vnd.oci.image.layer.v1.tar', data: YAML },
      ]);
      const s = await serve(mem.handler);
      const pulled = await new PalletRegistry(new RegistryClient({ registry: s.host })).pullWorkflow('demo');
      assert.equal(pulled.fileName, 'demo.yml');
      assert.equal(pulled.text, YAML);
    });
  });

  describe('listing', () => {
    it('follows Link pagination for catalog and tags', async () => {
      const pages: Record<string, [unknown, string?]> = {
        '/v2/_catalog?n=1000': [{ repositories: ['agents/a', 'agents/b'] }, '</v2/_catalog?last=agents%2Fb&n=1000>; rel="next"'],
        '/v2/_catalog?last=agents%2Fb&n=1000': [{ repositories: ['workflows/c'] }],
        '/v2/workflows/c/tags/list?n=1000': [{ name: 'workflows/c', tags: ['v1'] }, '</v2/workflows/c/tags/list?last=v1&n=1000>; rel="next"'],
        '/v2/workflows/c/tags/list?last=v1&n=1000': [{ name: 'workflows/c', tags: ['v2'] }],
      };
      const s = await serve((req, res) => {
        const page = pages[req.url ?? ''];
        if (!page) return false;
        return sendJson(res, 200, page[0], page[1] ? { link: page[1] } : {});
      });
      const client = new RegistryClient({ registry: s.host });
      assert.deepEqual(await client.catalog(), ['agents/a', 'agents/b', 'workflows/c']);
      assert.deepEqual(await client.tags('workflows/c'), ['v1', 'v2']);
    });

    it('listWorkflows reads each workflows/* repository, listing unreadable ones with a problem', async () => {
      const mem = new MemoryRegistry();
      mem.putArtifact('workflows/demo', 'v2', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      mem.putArtifact('workflows/odd', 'v1', [{ name: 'odd.txt', mediaType: 'text/plain', data: 'x' }]);
      mem.putArtifact('agents/plan', 'v1', [{ name: 'plan_agent_card.json', mediaType: 'application/json', data: '{}' }]);
      const s = await serve(mem.handler);
      const listed = await new PalletRegistry(new RegistryClient({ registry: s.host })).listWorkflows();
      assert.deepEqual(
        listed.map((w) => [w.repository, w.tag, w.tags, w.text, w.problem === undefined]),
        [
          ['workflows/demo', 'v2', ['v2'], YAML, true],
          ['workflows/odd', 'v1', ['v1'], '', false],
        ],
      );
      assert.match(listed[1].problem ?? '', /workflows\/odd:v1 .* has no YAML layer/);
    });

    it('listAgentCards prefers v1, else the first tag, and reports unreadable cards as problems', async () => {
      const mem = new MemoryRegistry();
      const card = (name: string) => JSON.stringify({ name, url: `http://${name}`, skills: [] });
      mem.putArtifact('agents/plan', 'v1', [{ name: 'plan_agent_card.json', mediaType: 'application/json', data: card('plan-agent') }]);
      mem.putArtifact('agents/plan', 'v2', [{ name: 'plan_agent_card.json', mediaType: 'application/json', data: card('plan-agent-2') }]);
      mem.putArtifact('agents/build', 'v3', [{ name: 'build_agent_card.json', mediaType: 'application/json', data: card('build-agent') }]);
      mem.putArtifact('agents/broken', 'v1', [{ name: 'broken_agent_card.json', mediaType: 'application/json', data: '{not json' }]);
      mem.putArtifact('agents/empty', 'v1', [{ name: 'x.yaml', mediaType: 'application/yaml', data: 'a: 1' }]);
      mem.putArtifact('workflows/demo', 'v1', [{ name: 'demo.yaml', mediaType: 'application/yaml', data: YAML }]);
      const s = await serve(mem.handler);
      const listed = await new PalletRegistry(new RegistryClient({ registry: s.host })).listAgentCards();
      assert.deepEqual(
        listed.cards.map((c) => [c.repository, c.tag, (c.card as { name: string }).name]),
        [
          ['agents/build', 'v3', 'build-agent'],
          ['agents/plan', 'v1', 'plan-agent'],
        ],
      );
      assert.equal(listed.problems.length, 2);
      assert.match(listed.problems[0], /agents\/broken:v1: its agent card is not valid JSON/);
      assert.match(listed.problems[1], /agents\/empty:v1 .* has no JSON layer/);
    });
  });
});
