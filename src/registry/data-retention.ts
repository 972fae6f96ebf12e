// Retention of run data (docs/large-data.md#retention): what the data repository holds, by
// owner (the root run whose history references it), and the pruning of owners whose run is
// closed and old enough. Temporal is asked through `lookup`, so this module knows the
// registry only. Deletion order: an owner's manifests first (their tags go with them), then
// each of its blobs that no tag left references, so data another owner stored too stays.
import { CREATED_ANNOTATION, sha256 } from './client';
import { DataStore, OWNER_ANNOTATION, ownerHash, parseDataTag } from './data';
import { RegistryError } from './errors';

/** What Temporal says about an owner's workflow id (its latest run). */
export type OwnerRun = { state: 'open'; status: string } | { state: 'closed'; status: string; closeTime: Date } | { state: 'unknown' };

/** One stored value of an owner: its tag, blob and the manifest that keeps it. */
export interface OwnedValue {
  tag: string;
  digest: string;
  size: number;
  manifest: string;
  /** When it was last stored (ms since the epoch), from the manifest's creation time. */
  created?: number;
}

export interface OwnerData {
  owner: string;
  hash: string;
  values: OwnedValue[];
  bytes: number;
  /** The newest `created` of its values. */
  newest?: number;
}

export interface DataInventory {
  location: string;
  owners: OwnerData[];
  /** Blobs tagged `sha256-<hex>`, stored without owner: kept for good. */
  unowned: string[];
  /** Tags we did not write, or whose manifest does not match its name, with the blobs they reference: left alone. */
  other: { tag: string; digests: string[]; problem: string }[];
}

export type KeepReason = 'open' | 'closed_recently' | 'unknown_recent' | 'unknown_undated';
export type RemoveReason = 'closed' | 'forgotten';

export interface OwnerVerdict {
  owner: OwnerData;
  run: OwnerRun;
  action: 'remove' | 'keep';
  reason: KeepReason | RemoveReason;
}

export interface PruneOptions {
  /** Data of runs closed less than this long ago is kept. */
  olderThanMs: number;
  /** The namespace's retention: a run Temporal forgot was closed at least this long ago (Infinity when unknown). */
  retentionMs: number;
  lookup: (owner: string) => Promise<OwnerRun>;
  dryRun?: boolean;
  now?: number;
}

export interface PruneReport {
  location: string;
  dryRun: boolean;
  cutoff: Date;
  owners: OwnerVerdict[];
  removed: { owners: number; manifests: number; blobs: number; bytes: number };
  /** Blobs of removed owners kept because another owner, or a tag without owner, still references them. */
  sharedKept: number;
  unowned: number;
  other: { tag: string; problem: string }[];
}

/** Requests at a time: enough to list thousands of values in seconds without flooding the registry. */
const CONCURRENCY = 8;
/** The empty config `{}` every data manifest shares: never deleted. */
const EMPTY_CONFIG_DIGEST = sha256('{}');

/** Reads every tag of the data repository and the manifest of each owned or unknown one. */
export async function dataInventory(store: DataStore): Promise<DataInventory> {
  const { client, repository } = store;
  const tags = await client.tags(repository);
  const owners = new Map<string, OwnerData>();
  const unowned: string[] = [];
  const other: DataInventory['other'] = [];
  await eachLimited(tags, async (tag) => {
    const parsed = parseDataTag(tag);
    if (parsed?.kind === 'unowned') return void unowned.push(parsed.digest);
    let read;
    try {
      read = await client.getManifest(`${repository}:${tag}`);
    } catch (err) {
      // Deleted since the listing (another prune): nothing to do.
      if (err instanceof RegistryError && err.code === 'not_found') return;
      if (err instanceof RegistryError && err.code === 'invalid_manifest') return void other.push({ tag, digests: [], problem: err.message });
      throw err;
    }
    const { manifest, digest } = read;
    const layer = manifest.layers[0];
    const owner = manifest.annotations?.[OWNER_ANNOTATION];
    const referenced = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    if (!parsed) return void other.push({ tag, digests: referenced, problem: 'not a tag of Pallet run data' });
    if (!owner || ownerHash(owner) !== parsed.ownerHash || manifest.layers.length !== 1 || layer.digest !== parsed.digest) {
      return void other.push({ tag, digests: referenced, problem: 'its manifest does not name the owner and blob its tag says' });
    }
    const created = Date.parse(manifest.annotations?.[CREATED_ANNOTATION] ?? '');
    const entry = owners.get(owner) ?? { owner, hash: parsed.ownerHash, values: [], bytes: 0 };
    entry.values.push({ tag, digest: layer.digest, size: layer.size, manifest: digest, ...(Number.isNaN(created) ? {} : { created }) });
    entry.bytes += layer.size;
    if (!Number.isNaN(created)) entry.newest = Math.max(entry.newest ?? 0, created);
    owners.set(owner, entry);
  });
  const byName = (a: { owner: string }, b: { owner: string }) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0);
  for (const o of owners.values()) o.values.sort((a, b) => (a.tag < b.tag ? -1 : 1));
  return {
    location: store.location,
    owners: [...owners.values()].sort(byName),
    unowned: unowned.sort(),
    other: other.sort((a, b) => (a.tag < b.tag ? -1 : 1)),
  };
}

/**
 * Whether an owner's data may go: its run closed before the cutoff, or Temporal no longer
 * knows it (retention expired) and its data is older than both the cutoff and the retention
 * (newer data of a forgotten run means this is not the namespace the runs were in).
 */
export function verdict(owner: OwnerData, run: OwnerRun, cutoff: number, retentionMs: number, now: number): Pick<OwnerVerdict, 'action' | 'reason'> {
  if (run.state === 'open') return { action: 'keep', reason: 'open' };
  if (run.state === 'closed') return run.closeTime.getTime() <= cutoff ? { action: 'remove', reason: 'closed' } : { action: 'keep', reason: 'closed_recently' };
  if (owner.newest === undefined) return { action: 'keep', reason: 'unknown_undated' };
  return owner.newest <= cutoff && owner.newest <= now - retentionMs ? { action: 'remove', reason: 'forgotten' } : { action: 'keep', reason: 'unknown_recent' };
}

/**
 * Deletes the data of owners whose run closed before `now - olderThanMs` (with `dryRun`, only
 * says what it would delete). Throws RegistryError, `unsupported` when the registry does not
 * allow deletes (then the first delete failed and nothing was deleted), and what lookup throws.
 */
export async function pruneData(store: DataStore, opts: PruneOptions): Promise<PruneReport> {
  const now = opts.now ?? Date.now();
  const cutoff = now - opts.olderThanMs;
  const inventory = await dataInventory(store);
  const owners: OwnerVerdict[] = [];
  await eachLimited(inventory.owners, async (owner) => {
    const run = await opts.lookup(owner.owner);
    owners.push({ owner, run, ...verdict(owner, run, cutoff, opts.retentionMs, now) });
  });
  owners.sort((a, b) => (a.owner.owner < b.owner.owner ? -1 : 1));
  const removed = owners.filter((o) => o.action === 'remove');
  const doomed = removed.flatMap((o) => o.owner.values);
  const { client, repository } = store;
  if (!opts.dryRun) await eachLimited(doomed, (v) => client.deleteManifest(repository, v.manifest));

  // The blobs still referenced: by the tags left (listed again, so data stored meanwhile counts), and by tags we did not write.
  const doomedTags = new Set(doomed.map((v) => v.tag));
  const tagsLeft = opts.dryRun ? (await client.tags(repository)).filter((t) => !doomedTags.has(t)) : await client.tags(repository);
  const kept = new Set<string>([EMPTY_CONFIG_DIGEST, ...inventory.other.flatMap((o) => o.digests)]);
  for (const tag of tagsLeft) {
    const parsed = parseDataTag(tag);
    if (parsed) kept.add(parsed.digest);
  }
  const sizes = new Map(doomed.map((v) => [v.digest, v.size]));
  const blobs = [...sizes.keys()].filter((d) => !kept.has(d));
  if (!opts.dryRun) await eachLimited(blobs, (d) => client.deleteBlob(repository, d));
  return {
    location: inventory.location,
    dryRun: !!opts.dryRun,
    cutoff: new Date(cutoff),
    owners,
    removed: { owners: removed.length, manifests: doomed.length, blobs: blobs.length, bytes: blobs.reduce((n, d) => n + (sizes.get(d) ?? 0), 0) },
    sharedKept: sizes.size - blobs.length,
    unowned: inventory.unowned.length,
    other: inventory.other.map(({ tag, problem }) => ({ tag, problem })),
  };
}

/** Runs `fn` over `items`, at most CONCURRENCY at a time; rejects with the first failure after the running ones end. */
async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  if (failure) throw failure.err;
}
