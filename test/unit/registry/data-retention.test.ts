// Run data with owners and its pruning, against the in-memory registry: the tags and
// annotations an owner's data gets, what prune deletes and keeps (open, recent, shared,
// without owner, tags it did not write), a dry run, a second prune, paged tag lists, and a
// registry that does not allow deletes.
import assert from 'node:assert/strict';
import { RegistryClaimStore, storeLargeValues, TEXT_MEDIA_TYPE } from '../../../src/claims';
import {
  CREATED_ANNOTATION,
  DataStore,
  dataTag,
  OWNER_ANNOTATION,
  ownerHash,
  ownerTag,
  parseDataTag,
  pruneData,
  RegistryClient,
  RegistryError,
  sha256,
  type OwnerRun,
  type PruneOptions,
} from '../../../src/registry';
import { MemoryRegistry, startServer, type FakeServer } from './fake-server';

const DAY = 86_400_000;
const REPO = 'pallet-data';

describe('run data owners and pruning (in-memory registry)', () => {
  let registry: MemoryRegistry;
  let server: FakeServer;
  let store: DataStore;

  beforeEach(async () => {
    registry = new MemoryRegistry();
    server = await startServer(registry.handler);
    store = new DataStore(new RegistryClient({ registry: server.host }), REPO);
  });
  afterEach(() => server.close());

  const put = (text: string, owner?: string) => store.put(Buffer.from(text), TEXT_MEDIA_TYPE, { owner });
  const blobThere = (text: string) => registry.blobs.has(sha256(text));
  const deletes = () => server.requests.filter((r) => r.method === 'DELETE');
  /** Runs by owner; owners not named are unknown to Temporal. */
  const lookup =
    (runs: Record<string, OwnerRun>): PruneOptions['lookup'] =>
    (owner) =>
      Promise.resolve(runs[owner] ?? { state: 'unknown' });
  const closed = (daysAgo: number): OwnerRun => ({ state: 'closed', status: 'COMPLETED', closeTime: new Date(Date.now() - daysAgo * DAY) });
  const open: OwnerRun = { state: 'open', status: 'RUNNING' };

  it("an owner's data is tagged run-<16 hex of sha256(owner)>-<hex>, a valid OCI tag, and its manifest names the owner and when", async () => {
    const owner = 'code-generation-v1 m3x9k2/ü:1'; // a workflow id may hold any character
    const d = await put('plan text', owner);
    const tag = ownerTag(owner, d.digest);
    assert.equal(tag, `run-${sha256(owner).slice(7, 23)}-${d.digest.slice(7)}`);
    assert.match(tag, /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/);
    assert.deepEqual(parseDataTag(tag), { kind: 'owned', ownerHash: ownerHash(owner), digest: d.digest });
    assert.deepEqual(registry.tagsOf(REPO), [tag]);
    const { manifest } = await store.client.getManifest(`${REPO}:${tag}`);
    assert.equal(manifest.annotations?.[OWNER_ANNOTATION], owner);
    assert.ok(Math.abs(Date.parse(manifest.annotations?.[CREATED_ANNOTATION] ?? '') - Date.now()) < 5000);
    assert.equal(manifest.layers[0].digest, d.digest);
  });

  it('without an owner the tag is sha256-<hex> and the manifest has no annotations, as before', async () => {
    const d = await put('legacy');
    assert.deepEqual(registry.tagsOf(REPO), [dataTag(d.digest)]);
    assert.deepEqual(parseDataTag(dataTag(d.digest)), { kind: 'unowned', digest: d.digest });
    const { manifest } = await store.client.getManifest(`${REPO}:${dataTag(d.digest)}`);
    assert.equal(manifest.annotations, undefined);
    assert.equal(parseDataTag('latest'), undefined);
  });

  it('storing the same data again for its owner moves the tag to a new manifest and deletes the old one', async () => {
    const first = await put('again', 'run-a');
    const tag = ownerTag('run-a', first.digest);
    const before = (await store.client.resolve(`${REPO}:${tag}`)).digest;
    await new Promise((r) => setTimeout(r, 1100)); // a new creation time (seconds)
    await put('again', 'run-a');
    const after = (await store.client.resolve(`${REPO}:${tag}`)).digest;
    assert.notEqual(after, before);
    assert.deepEqual(
      deletes().map((r) => r.url),
      [`/v2/${REPO}/manifests/${before}`],
    );
    assert.ok(!registry.manifests.get(REPO)?.has(before), 'the superseded manifest is gone');
  });

  it('a blob deleted by a prune between its upload check and its manifest is uploaded again', async () => {
    registry.verifyBlobs = true;
    await put('pruned meanwhile', 'old-run');
    const digest = sha256('pruned meanwhile');
    // The prune's delete lands after pushBlob's HEAD found the blob, before the manifest.
    let pruned = false;
    const racing = await startServer((req) => {
      if (req.method === 'PUT' && req.url?.includes('/manifests/') && !pruned) pruned = registry.blobs.delete(digest);
      return false;
    }, registry.handler);
    try {
      registry.blobs.set(digest, Buffer.from('pruned meanwhile'));
      const d = await new DataStore(new RegistryClient({ registry: racing.host }), REPO).put(Buffer.from('pruned meanwhile'), TEXT_MEDIA_TYPE, {
        owner: 'retried-run',
      });
      assert.equal(d.digest, digest);
      assert.ok(blobThere('pruned meanwhile'));
      assert.ok(registry.tagsOf(REPO).includes(ownerTag('retried-run', digest)));
      assert.equal(racing.requests.filter((r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/')).length, 1, 'uploaded once more');
    } finally {
      await racing.close();
    }
  });

  it('storeLargeValues stores the parts it moves out for the owner it is given', async () => {
    const claims = new RegistryClaimStore(store);
    const split = await storeLargeValues({ small: 1, big: 'x'.repeat(2000) }, claims, 500, 'owner-1');
    assert.equal(split.stored.length, 1);
    assert.deepEqual(registry.tagsOf(REPO), [ownerTag('owner-1', split.stored[0].$pallet_ref)]);
  });

  it('prunes a closed old run: its manifests, then the blobs no other owner or sha256 tag uses; keeps open and recent runs', async () => {
    await put('a only', 'old-run');
    await put('shared with open', 'old-run');
    await put('shared with legacy', 'old-run');
    await put('shared with open', 'open-run');
    await put('b only', 'open-run');
    await put('recent only', 'recent-run');
    await put('shared with legacy');
    const report = await pruneData(store, {
      olderThanMs: 30 * DAY,
      retentionMs: 7 * DAY,
      lookup: lookup({ 'old-run': closed(31), 'open-run': open, 'recent-run': closed(29) }),
    });
    assert.deepEqual(
      report.owners.map((v) => [v.owner.owner, v.action, v.reason, v.owner.values.length]),
      [
        ['old-run', 'remove', 'closed', 3],
        ['open-run', 'keep', 'open', 2],
        ['recent-run', 'keep', 'closed_recently', 1],
      ],
    );
    assert.deepEqual(report.removed, { owners: 1, manifests: 3, blobs: 1, bytes: 'a only'.length });
    assert.equal(report.sharedKept, 2);
    assert.equal(report.unowned, 1);
    assert.ok(!blobThere('a only'));
    for (const kept of ['shared with open', 'shared with legacy', 'b only', 'recent only']) assert.ok(blobThere(kept), kept);
    assert.ok(!registry.tagsOf(REPO).some((t) => t.startsWith(`run-${ownerHash('old-run')}-`)));
    assert.equal(registry.tagsOf(REPO).length, 4);
    // The empty config every manifest shares stays.
    assert.ok(blobThere('{}'));

    const again = await pruneData(store, { olderThanMs: 30 * DAY, retentionMs: 7 * DAY, lookup: lookup({ 'open-run': open, 'recent-run': closed(29) }) });
    assert.deepEqual(again.removed, { owners: 0, manifests: 0, blobs: 0, bytes: 0 });
  });

  it('a dry run reports the same and deletes nothing', async () => {
    await put('a only', 'old-run');
    await put('shared', 'old-run');
    await put('shared', 'open-run');
    const opts = { olderThanMs: DAY, retentionMs: DAY, lookup: lookup({ 'old-run': closed(2), 'open-run': open }) };
    const dry = await pruneData(store, { ...opts, dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.removed, { owners: 1, manifests: 2, blobs: 1, bytes: 6 });
    assert.equal(deletes().length, 0);
    assert.equal(registry.tagsOf(REPO).length, 3);
    const real = await pruneData(store, opts);
    assert.deepEqual(real.removed, dry.removed);
    assert.equal(registry.tagsOf(REPO).length, 1);
  });

  it('a run Temporal forgot goes when its data is older than the cutoff and the retention; newer, it is kept (wrong namespace?)', async () => {
    await put('forgotten data', 'forgotten');
    const at = (now: number) => pruneData(store, { olderThanMs: DAY, retentionMs: 3 * DAY, lookup: lookup({}), now, dryRun: true });
    const soon = await at(Date.now() + 2 * DAY); // past the cutoff, within the retention
    assert.deepEqual([soon.owners[0].action, soon.owners[0].reason], ['keep', 'unknown_recent']);
    const later = await at(Date.now() + 4 * DAY);
    assert.deepEqual([later.owners[0].action, later.owners[0].reason], ['remove', 'forgotten']);
  });

  it('a tag it did not write keeps the blobs its manifest references, and a tag whose manifest names another owner is left alone', async () => {
    const d = await put('also in an artifact', 'old-run');
    registry.putArtifact(REPO, 'latest', [{ name: 'f.txt', mediaType: TEXT_MEDIA_TYPE, data: 'also in an artifact' }]);
    // A run-* tag whose manifest does not match its name (written by hand): not an owner's data.
    const forged = `run-${ownerHash('someone')}-${d.digest.slice(7)}`;
    const { raw } = await store.client.getManifest(`${REPO}:${ownerTag('old-run', d.digest)}`);
    await store.client.pushManifest(REPO, forged, raw);
    const report = await pruneData(store, { olderThanMs: 0, retentionMs: DAY, lookup: lookup({ 'old-run': closed(1) }) });
    assert.deepEqual(report.removed, { owners: 1, manifests: 1, blobs: 0, bytes: 0 });
    assert.deepEqual(report.other.map((o) => o.tag).sort(), ['latest', forged].sort());
    assert.ok(blobThere('also in an artifact'));
  });

  it('reads every page of the tag list', async () => {
    registry.pageSize = 2;
    for (let i = 0; i < 5; i++) await put(`value ${i}`, `old-${i}`);
    const report = await pruneData(store, {
      olderThanMs: 0,
      retentionMs: DAY,
      lookup: lookup(Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`old-${i}`, closed(1)]))),
    });
    assert.equal(report.removed.owners, 5);
    assert.deepEqual(registry.tagsOf(REPO), []);
    assert.ok(
      server.requests.some((r) => r.url.includes('last=')),
      'followed the Link header',
    );
  });

  it('a registry that does not allow deletes is refused clearly, and nothing is deleted', async () => {
    registry.deletes = false;
    await put('a only', 'old-run');
    await assert.rejects(pruneData(store, { olderThanMs: 0, retentionMs: DAY, lookup: lookup({ 'old-run': closed(1) }) }), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.code, 'unsupported');
      assert.match(
        err.message,
        /does not allow this \(HTTP 405\) \(UNSUPPORTED: The operation is unsupported\.\) while deleting manifest sha256:[0-9a-f]{64} of pallet-data/,
      );
      assert.match(err.message, /storage\.delete\.enabled: true/);
      return true;
    });
    assert.equal(registry.tagsOf(REPO).length, 1);
    assert.ok(blobThere('a only'));
  });

  it('what the lookup throws (Temporal unreachable) stops the prune before any delete', async () => {
    await put('a only', 'old-run');
    await assert.rejects(
      pruneData(store, { olderThanMs: 0, retentionMs: DAY, lookup: () => Promise.reject(new Error('cannot reach Temporal')) }),
      /cannot reach Temporal/,
    );
    assert.equal(deletes().length, 0);
  });
});
