// Retention of run data (docs/large-data.md#retention) with a real registry, the shared
// Temporal dev server and the real CLI: `pallet data prune` deletes the data of a closed run,
// keeps a running run's (also what it shares with the closed one), values without owner, and
// an owner Temporal does not know whose data is new; a second prune removes nothing; the
// registry's garbage collection then frees the disk; a registry without deletes is refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { TEXT_MEDIA_TYPE } from '../../src/claims';
import { DataStore, ownerHash, RegistryClient, sha256 } from '../../src/registry';
import { runCli } from '../helpers/cli';
import { REGISTRY_BIN, startRegistry, type RunningRegistry } from '../helpers/registry';
import { temporalEnv } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';

interface PruneJson {
  dry_run: boolean;
  removed: { owners: number; manifests: number; blobs: number; bytes: number };
  shared_blobs_kept: number;
  owners: { owner: string; action: string; reason: string; values: number; bytes: number; run: { state: string; status?: string } }[];
  unowned_values: number;
}

describe('pallet data prune: run data retention (real registry, Temporal dev server, CLI)', function () {
  this.timeout(120_000);
  let reg: RunningRegistry;
  let store: DataStore;
  let client: Client;
  let env: Record<string, string>;
  const closedRun = uniqueId('closed-run');
  const openRun = uniqueId('open-run');
  const neverRun = uniqueId('never-a-run');
  const taskQueue = uniqueId('no-worker');

  /** Starts a run no worker takes: it stays RUNNING until terminated. */
  const startRun = (workflowId: string) => client.workflow.start('palletWorkflow', { taskQueue, workflowId, args: [] });
  const put = (text: string, owner?: string) => store.put(Buffer.from(text), TEXT_MEDIA_TYPE, { owner });
  const blobStatus = async (text: string) => (await fetch(`http://${reg.host}/v2/pallet-data/blobs/${sha256(text)}`, { method: 'HEAD' })).status;
  const tags = async () => ((await (await fetch(`http://${reg.host}/v2/pallet-data/tags/list`)).json()) as { tags: string[] }).tags;
  const prune = async (...args: string[]) => {
    const res = await runCli(['data', 'prune', '--older-than', '0s', '--json', ...args], { env });
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as PruneJson;
  };

  before(async () => {
    const temporal = await temporalEnv();
    client = temporal.client;
    reg = await startRegistry();
    store = new DataStore(new RegistryClient({ registry: reg.host }), 'pallet-data');
    env = { PALLET_REGISTRY: reg.host, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: 'default' };
    await (await startRun(closedRun)).terminate('finished for the test');
    await startRun(openRun);
    await put('only the closed run has this');
    await put('only the closed run has this', closedRun);
    await put('both runs have this', closedRun);
    await put('nothing else has this', closedRun);
    await put('both runs have this', openRun);
    await put('only the open run has this', openRun);
    await put('a value stored without owner');
    await put('written by a workflow id the server never saw', neverRun);
  });

  after(async () => {
    await client?.workflow
      .getHandle(openRun)
      .terminate('test over')
      .catch(() => undefined);
    await reg?.stop();
  });

  it('a dry run says what would go and deletes nothing', async () => {
    const before = await tags();
    const report = await prune('--dry-run');
    assert.equal(report.dry_run, true);
    assert.deepEqual(report.removed, { owners: 1, manifests: 3, blobs: 1, bytes: 'nothing else has this'.length });
    assert.deepEqual((await tags()).sort(), before.sort());
    assert.equal(await blobStatus('nothing else has this'), 200);
  });

  it("deletes the closed run's data, keeps the open run's (shared included), the unowned and the unknown new owner's", async () => {
    const report = await prune();
    const byOwner = Object.fromEntries(report.owners.map((o) => [o.owner, [o.action, o.reason, o.run.state, o.values]]));
    assert.deepEqual(byOwner, {
      [closedRun]: ['remove', 'closed', 'closed', 3],
      [openRun]: ['keep', 'open', 'open', 2],
      [neverRun]: ['keep', 'unknown_recent', 'unknown', 1],
    });
    // 'only the closed run has this' is also stored without owner: kept, as is the shared one.
    assert.deepEqual(report.removed, { owners: 1, manifests: 3, blobs: 1, bytes: 'nothing else has this'.length });
    assert.equal(report.shared_blobs_kept, 2);
    assert.equal(await blobStatus('nothing else has this'), 404);
    assert.equal(report.unowned_values, 2);
    assert.equal(await blobStatus('both runs have this'), 200);
    assert.equal(await blobStatus('only the open run has this'), 200);
    assert.equal(await blobStatus('only the closed run has this'), 200);
    assert.ok(!(await tags()).some((t) => t.startsWith(`run-${ownerHash(closedRun)}-`)), 'no tag of the closed run is left');
    // The data the open run references still reads back whole.
    assert.equal((await store.get(sha256('both runs have this'), 19)).toString(), 'both runs have this');
  });

  it('a second prune removes nothing; once the open run closes, its data goes too', async () => {
    const again = await prune();
    assert.deepEqual(again.removed, { owners: 0, manifests: 0, blobs: 0, bytes: 0 });
    await client.workflow.getHandle(openRun).terminate('closed now');
    const after = await prune();
    assert.deepEqual(after.removed, { owners: 1, manifests: 2, blobs: 2, bytes: 'both runs have this'.length + 'only the open run has this'.length });
    assert.equal(await blobStatus('both runs have this'), 404);
    assert.equal(await blobStatus('only the open run has this'), 404);
  });

  it("the registry's garbage collection then frees the disk of deleted blobs only", async () => {
    const onDisk = (text: string) =>
      existsSync(path.join(reg.storage, 'docker/registry/v2/blobs/sha256', sha256(text).slice(7, 9), sha256(text).slice(7), 'data'));
    assert.ok(onDisk('only the open run has this'), 'before the collection, the deleted blob is still on disk');
    await promisify(execFile)(REGISTRY_BIN, ['garbage-collect', reg.config], { timeout: 60_000 });
    assert.ok(!onDisk('only the open run has this'));
    assert.ok(!onDisk('both runs have this'));
    assert.ok(!onDisk('nothing else has this'));
    assert.ok(onDisk('only the closed run has this'), 'kept by its sha256-* tag');
    assert.ok(onDisk('written by a workflow id the server never saw'));
  });

  it('the human output says what went and what stayed, and why', async () => {
    const res = await runCli(['data', 'prune', '--older-than', '30d'], { env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^removed the data of 0 runs from ${reg.host}/pallet-data: 0 values, 0 blobs, 0 B$`, 'm'));
    assert.match(
      res.stdout,
      new RegExp(`^  kept +${neverRun} +1 value, 45 B +unknown to Temporal, last stored \\S+, less than 30 d ago: are TEMPORAL_ADDRESS`, 'm'),
    );
    assert.match(res.stdout, /^2 values without owner \(tags sha256-\*/m);
    const list = await runCli(['data', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^OWNER +RUN +VALUES +SIZE +LAST STORED$/m);
    assert.match(list.stdout, new RegExp(`^${neverRun} +unknown to Temporal +1 +45 B `, 'm'));
  });

  it('an --older-than that is not a duration, and a registry without deletes, are refused clearly', async () => {
    const bad = await runCli(['data', 'prune', '--older-than', 'a month'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--older-than must be a number of seconds or text such as "90s", "2h", "1h30m", "2d", not "a month"/);

    const noDeletes = await startRegistry({ deletes: false });
    try {
      const owner = uniqueId('closed-elsewhere');
      await (await startRun(owner)).terminate('done');
      await new DataStore(new RegistryClient({ registry: noDeletes.host }), 'pallet-data').put(Buffer.from('stays'), TEXT_MEDIA_TYPE, { owner });
      const res = await runCli(['data', 'prune', '--older-than', '0s'], { env: { ...env, PALLET_REGISTRY: noDeletes.host } });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /registry 127\.0\.0\.1:\d+ does not allow this \(HTTP 405\) \(UNSUPPORTED: .*\) while deleting manifest sha256:\w+ of/);
      assert.match(res.stderr, /; deleting needs `storage\.delete\.enabled: true` in the registry's config/);
      const left = (await (await fetch(`http://${noDeletes.host}/v2/pallet-data/tags/list`)).json()) as { tags: string[] };
      assert.equal(left.tags.length, 1);
    } finally {
      await noDeletes.stop();
    }
  });
});
