// The native registry client against a real registry (CNCF distribution 2.8, Debian's
// docker-registry) and the real `oras` CLI: each must read what the other pushed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRegistry, isRetryable, PalletRegistry, RegistryClient, RegistryError, type ImageManifest } from '../../src/registry';
import { freePort, requireOras, runOras, startRegistry, type RunningRegistry } from '../helpers/registry';

const ROOT = path.resolve(__dirname, '../..');
const WORKFLOWS = path.join(ROOT, 'pallet-workflows');
const CARDS = path.join(ROOT, 'agent-cards');

const orasDigest = (stdout: string) => /Digest: (sha256:[a-f0-9]{64})/.exec(stdout)?.[1] ?? assert.fail(`no digest in oras output:\n${stdout}`);

async function orasManifest(host: string, ref: string): Promise<ImageManifest> {
  return JSON.parse(await runOras(['manifest', 'fetch', '--plain-http', `${host}/${ref}`])) as ImageManifest;
}

/** A manifest without its timestamp, for comparing layouts. */
function layout(m: ImageManifest): unknown {
  const { [`org.opencontainers.image.created`]: created, ...rest } = m.annotations ?? {};
  assert.match(created ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  return { ...m, annotations: rest };
}

describe('registry (real docker-registry and oras CLI)', function () {
  let reg: RunningRegistry;
  let store: PalletRegistry;
  let tmp: string;

  before(async () => {
    requireOras();
    reg = await startRegistry();
    store = createRegistry({ PALLET_REGISTRY: reg.host, HOME: os.tmpdir(), DOCKER_CONFIG: path.join(os.tmpdir(), 'no-docker-config') });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'pallet-oras-'));
  });
  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('pulls what `oras push` pushed (Pallet’s way of publishing)', async () => {
    const out = await runOras(['push', '--plain-http', `${reg.host}/workflows/code-generation:v1`, 'code-generation.yaml:application/yaml'], WORKFLOWS);
    const pulled = await store.pullWorkflow('code-generation-v1');
    assert.equal(pulled.text, await readFile(path.join(WORKFLOWS, 'code-generation.yaml'), 'utf8'));
    assert.equal(pulled.fileName, 'code-generation.yaml');
    assert.equal(pulled.repository, 'workflows/code-generation');
    assert.equal(pulled.tag, 'v1');
    assert.equal(pulled.digest, orasDigest(out));
    assert.equal((await store.client.resolve('workflows/code-generation:v1')).digest, pulled.digest);
  });

  it('pushes what `oras pull` reads back byte for byte, with the manifest layout oras writes', async () => {
    const file = path.join(WORKFLOWS, 'parallel-analysis.yaml');
    const text = await readFile(file, 'utf8');
    const ours = await store.pushWorkflow('parallel-analysis', 'parallel-analysis.yaml', text);
    assert.equal(ours.reference, `${reg.host}/workflows/parallel-analysis:v1`);

    const out = path.join(tmp, 'pulled');
    const pulledOut = await runOras(['pull', '--plain-http', '-o', out, `${reg.host}/workflows/parallel-analysis:v1`]);
    assert.equal(orasDigest(pulledOut), ours.digest);
    assert.deepEqual(await readdir(out), ['parallel-analysis.yaml']);
    assert.deepEqual(await readFile(path.join(out, 'parallel-analysis.yaml')), await readFile(file));

    // Same file pushed by oras: identical manifest apart from the creation time.
    await runOras(['push', '--plain-http', `${reg.host}/scratch/parallel-analysis:v1`, 'parallel-analysis.yaml:application/yaml'], WORKFLOWS);
    assert.deepEqual(
      layout(await orasManifest(reg.host, 'workflows/parallel-analysis:v1')),
      layout(await orasManifest(reg.host, 'scratch/parallel-analysis:v1')),
    );
  });

  it('writes several files and extra annotations the way oras does', async () => {
    const client = store.client;
    await client.pushArtifact(
      'scratch/multi',
      'v1',
      [
        { name: 'plan_agent_card.json', mediaType: 'application/json', data: await readFile(path.join(CARDS, 'plan_agent_card.json')) },
        { name: 'build_agent_card.json', mediaType: 'application/json', data: await readFile(path.join(CARDS, 'build_agent_card.json')) },
      ],
      { 'com.example.note': 'a<b&c' },
    );
    await runOras(
      [
        'push',
        '--plain-http',
        `${reg.host}/scratch/multi-oras:v1`,
        'plan_agent_card.json:application/json',
        'build_agent_card.json:application/json',
        '--annotation',
        'com.example.note=a<b&c',
      ],
      CARDS,
    );
    assert.deepEqual(layout(await orasManifest(reg.host, 'scratch/multi:v1')), layout(await orasManifest(reg.host, 'scratch/multi-oras:v1')));

    // With the same creation time the manifests are byte-identical (Go's JSON escaping included).
    const created = (await orasManifest(reg.host, 'scratch/multi-oras:v1')).annotations?.['org.opencontainers.image.created'] ?? '';
    const again = await client.pushArtifact(
      'scratch/multi-oras',
      'v2',
      [
        { name: 'plan_agent_card.json', mediaType: 'application/json', data: await readFile(path.join(CARDS, 'plan_agent_card.json')) },
        { name: 'build_agent_card.json', mediaType: 'application/json', data: await readFile(path.join(CARDS, 'build_agent_card.json')) },
      ],
      { 'com.example.note': 'a<b&c', 'org.opencontainers.image.created': created },
    );
    assert.equal(again.digest, (await client.resolve('scratch/multi-oras:v1')).digest);
  });

  it('lists the catalog, tags and Pallet’s three workflows', async () => {
    await store.pushWorkflow('smart-router', 'smart-router.yaml', await readFile(path.join(WORKFLOWS, 'smart-router.yaml'), 'utf8'));
    const catalog = await store.client.catalog();
    for (const r of ['workflows/code-generation', 'workflows/parallel-analysis', 'workflows/smart-router']) assert.ok(catalog.includes(r), r);
    assert.deepEqual(await store.client.tags('workflows/smart-router'), ['v1']);
    assert.deepEqual(await store.client.tags('workflows/never-pushed'), []);

    const listed = await store.listWorkflows();
    assert.deepEqual(
      listed.map((w) => [w.repository, w.tag, w.tags, w.fileName, w.problem]),
      [
        ['workflows/code-generation', 'v1', ['v1'], 'code-generation.yaml', undefined],
        ['workflows/parallel-analysis', 'v1', ['v1'], 'parallel-analysis.yaml', undefined],
        ['workflows/smart-router', 'v1', ['v1'], 'smart-router.yaml', undefined],
      ],
    );
    for (const w of listed) assert.equal(w.text, await readFile(path.join(WORKFLOWS, w.fileName), 'utf8'));
  });

  it('publishes and discovers Pallet’s three agent cards, also reading a card pushed by oras', async () => {
    // plan the way Pallet publishes it, build and test with ours.
    await runOras(['push', '--plain-http', `${reg.host}/agents/plan:v1`, 'plan_agent_card.json:application/json'], CARDS);
    for (const agent of ['build', 'test']) {
      const text = await readFile(path.join(CARDS, `${agent}_agent_card.json`), 'utf8');
      const pushed = await store.pushAgentCard(`${agent}-agent`, text);
      assert.equal(pushed.reference, `${reg.host}/agents/${agent}:v1`);
    }
    const out = path.join(tmp, 'card');
    await runOras(['pull', '--plain-http', '-o', out, `${reg.host}/agents/build:v1`]);
    assert.deepEqual(await readdir(out), ['build_agent_card.json']);

    const { cards, problems } = await store.listAgentCards();
    assert.deepEqual(problems, []);
    assert.deepEqual(
      cards.map((c) => [c.repository, c.tag, (c.card as { name: string }).name]),
      [
        ['agents/build', 'v1', 'build-agent'],
        ['agents/plan', 'v1', 'plan-agent'],
        ['agents/test', 'v1', 'test-agent'],
      ],
    );
  });

  it('a pinned digest still returns the old content after the tag moved', async () => {
    const v1 = 'metadata:\n  id: moving-v1\n  name: Old\n  version: 1.0.0\nsteps: []\n';
    const first = await store.pushWorkflow('moving', 'moving.yaml', v1);
    await store.pushWorkflow('moving', 'moving.yaml', v1.replace('Old', 'New'));
    assert.match((await store.pullWorkflow('moving-v1')).text, /New/);
    const pinned = await store.pullWorkflow(`moving@${first.digest}`);
    assert.equal(pinned.text, v1);
    assert.equal(pinned.digest, first.digest);
  });

  it('a missing tag is not_found naming the reference', async () => {
    await assert.rejects(store.pullWorkflow('code-generation:v9'), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.code, 'not_found');
      assert.match(err.message, /workflows\/code-generation:v9 was not found on registry 127\.0\.0\.1:\d+/);
      assert.equal(isRetryable(err), false);
      return true;
    });
  });

  it('a registry that is down is unreachable and retryable', async () => {
    const down = new PalletRegistry(new RegistryClient({ registry: `127.0.0.1:${await freePort()}` }));
    await assert.rejects(down.pullWorkflow('code-generation-v1'), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.code, 'unreachable');
      assert.match(err.message, /is unreachable \(ECONNREFUSED\) while pulling workflows\/code-generation:v1; is it running\? set PALLET_REGISTRY/);
      assert.equal(isRetryable(err), true);
      return true;
    });
  });
});

/** A bcrypt htpasswd line from python3's crypt (glibc/libxcrypt), or undefined where that is unavailable. */
function bcryptLine(user: string, password: string): string | undefined {
  try {
    const script =
      'import crypt,sys; h=crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)); print(sys.argv[1]+":"+h if h and h.startswith("$2") else "")';
    const line = execFileSync('python3', ['-W', 'ignore', '-c', script, user, password], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return line || undefined;
  } catch {
    return undefined;
  }
}

describe('registry with Basic auth (real docker-registry, htpasswd)', function () {
  let reg: RunningRegistry;

  before(async () => {
    requireOras();
    const line = bcryptLine('alice', 's3cret');
    if (!line) throw new Error("python3's crypt module made no bcrypt line for the registry's htpasswd: it needs Python 3.12 or older with libxcrypt");
    reg = await startRegistry({ htpasswd: line });
  });
  after(async () => reg?.stop());

  it('pushes and pulls with credentials from the environment, and oras reads it with the same ones', async () => {
    const store = createRegistry({ PALLET_REGISTRY: reg.host, PALLET_REGISTRY_USERNAME: 'alice', PALLET_REGISTRY_PASSWORD: 's3cret', HOME: os.tmpdir() });
    const text = await readFile(path.join(WORKFLOWS, 'smart-router.yaml'), 'utf8');
    const pushed = await store.pushWorkflow('smart-router', 'smart-router.yaml', text);
    assert.equal((await store.pullWorkflow('smart-router-v1')).digest, pushed.digest);
    const out = await runOras(['manifest', 'fetch', '--plain-http', '-u', 'alice', '-p', 's3cret', '--descriptor', `${reg.host}/workflows/smart-router:v1`]);
    assert.equal((JSON.parse(out) as { digest: string }).digest, pushed.digest);
  });

  it('is unauthorized without or with wrong credentials', async () => {
    for (const env of [{}, { PALLET_REGISTRY_USERNAME: 'alice', PALLET_REGISTRY_PASSWORD: 'wrong' }]) {
      const store = createRegistry({ PALLET_REGISTRY: reg.host, HOME: os.tmpdir(), DOCKER_CONFIG: path.join(os.tmpdir(), 'no-docker-config'), ...env });
      await assert.rejects(
        store.pullWorkflow('smart-router-v1'),
        (err: unknown) => err instanceof RegistryError && err.code === 'unauthorized' && err.status === 401 && !isRetryable(err),
      );
    }
  });
});
