// `pallet data list` and `pallet data prune`: the run data kept in the registry (large values,
// docs/large-data.md#retention), by owner, and the deletion of closed runs' data. Temporal is
// asked about each owner's workflow id; no worker is needed.
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { formatBytes } from '../claims';
import { durationMs, DURATION_HELP, showDuration } from '../dsl/durations';
import { dataInventory, DataStore, pruneData, RegistryClient, type OwnerData, type OwnerRun, type OwnerVerdict, type PruneReport } from '../registry';
import { services } from '../services';

/** `pallet data list`. */
export async function dataListCommand(opts: { json?: boolean }): Promise<void> {
  await withTemporal(async (lookup) => {
    const inventory = await dataInventory(dataStore());
    const runs = await Promise.all(inventory.owners.map((o) => lookup(o.owner)));
    const rows = inventory.owners.map((o, i) => ownerJson(o, runs[i]));
    if (opts.json) {
      const other = inventory.other.map((o) => ({ tag: o.tag, problem: o.problem }));
      return console.log(
        JSON.stringify({ repository: inventory.location, owners: rows, unowned_values: inventory.unowned.length, other_tags: other }, null, 2),
      );
    }
    if (rows.length === 0) console.log(`no run data with an owner in ${inventory.location}`);
    else
      printTable([
        ['OWNER', 'RUN', 'VALUES', 'SIZE', 'LAST STORED'],
        ...inventory.owners.map((o, i) => [o.owner, runText(runs[i]), String(o.values.length), formatBytes(o.bytes), time(o.newest)]),
      ]);
    printLeftAlone(inventory.unowned.length, inventory.other.length);
  });
}

/** `pallet data prune`. */
export async function dataPruneCommand(opts: { olderThan: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  const olderThanMs = durationMs(opts.olderThan);
  if (olderThanMs === undefined) throw new Error(`--older-than must be ${DURATION_HELP}, not "${opts.olderThan}"`);
  await withTemporal(async (lookup, retentionMs) => {
    const report = await pruneData(dataStore(), { olderThanMs, retentionMs, lookup, dryRun: opts.dryRun });
    if (opts.json) return console.log(JSON.stringify(pruneJson(report, opts.olderThan), null, 2));
    printPrune(report, olderThanMs, retentionMs);
  });
}

/** The data repository, through a client whose blob limit and timeout suit large data (as the worker's). */
function dataStore(): DataStore {
  const { registry, claims } = services().settings;
  return new DataStore(new RegistryClient({ ...registry, maxBlobBytes: claims.maxBytes, timeoutMs: 5 * 60_000 }), claims.repository);
}

type Lookup = (owner: string) => Promise<OwnerRun>;

/** Runs `body` with a lookup of owners' runs and the namespace's retention, then closes the connection. */
async function withTemporal(body: (lookup: Lookup, retentionMs: number) => Promise<void>): Promise<void> {
  const svc = services();
  try {
    const { client, connection } = await svc.temporal();
    const { namespace } = svc.settings.temporal;
    const described = await connection.workflowService.describeNamespace({ namespace });
    const retentionMs = optionalTsToMs(described.config?.workflowExecutionRetentionTtl) ?? Infinity;
    await body(runLookup(client), retentionMs);
  } finally {
    await svc.close();
  }
}

/** The latest run of a workflow id: open while it has no close time, unknown when the server no longer has it. */
export function runLookup(client: Client): Lookup {
  return async (owner) => {
    try {
      const d = await client.workflow.getHandle(owner).describe();
      return d.closeTime && d.status.name !== 'RUNNING'
        ? { state: 'closed', status: d.status.name, closeTime: d.closeTime }
        : { state: 'open', status: d.status.name };
    } catch (err) {
      if ((err as Error).name === 'WorkflowNotFoundError') return { state: 'unknown' };
      throw err;
    }
  };
}

function runJson(run: OwnerRun): Record<string, unknown> {
  if (run.state === 'unknown') return { state: 'unknown' };
  return { state: run.state, status: run.status, ...(run.state === 'closed' ? { close_time: run.closeTime.toISOString() } : {}) };
}

function ownerJson(o: OwnerData, run: OwnerRun): Record<string, unknown> {
  return {
    owner: o.owner,
    run: runJson(run),
    values: o.values.length,
    bytes: o.bytes,
    last_stored: o.newest === undefined ? null : new Date(o.newest).toISOString(),
  };
}

function pruneJson(r: PruneReport, olderThan: string): Record<string, unknown> {
  return {
    repository: r.location,
    dry_run: r.dryRun,
    older_than: olderThan,
    cutoff: r.cutoff.toISOString(),
    removed: r.removed,
    shared_blobs_kept: r.sharedKept,
    owners: r.owners.map((v) => ({ ...ownerJson(v.owner, v.run), action: v.action, reason: v.reason })),
    unowned_values: r.unowned,
    other_tags: r.other,
  };
}

function runText(run: OwnerRun): string {
  if (run.state === 'unknown') return 'unknown to Temporal';
  if (run.state === 'open') return run.status.toLowerCase();
  return `${run.status.toLowerCase()} ${time(run.closeTime.getTime())}`;
}

/** Why an owner's data stays or goes, for people. */
function why(v: OwnerVerdict, olderThanMs: number, retentionMs: number): string {
  const run = runText(v.run);
  switch (v.reason) {
    case 'open':
      return `${run}: the run is open`;
    case 'closed':
      return `${run}, more than ${showDuration(olderThanMs)} ago`;
    case 'closed_recently':
      return `${run}, less than ${showDuration(olderThanMs)} ago`;
    case 'forgotten':
      return `${run} (its retention expired), last stored ${time(v.owner.newest)}`;
    case 'unknown_undated':
      return `${run}, and its data has no creation time`;
    case 'unknown_recent': {
      const within = showDuration(Math.max(olderThanMs, Number.isFinite(retentionMs) ? retentionMs : 0));
      return `${run}, last stored ${time(v.owner.newest)}, less than ${within} ago: are TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE the workers'?`;
    }
  }
}

function printPrune(r: PruneReport, olderThanMs: number, retentionMs: number): void {
  const { owners, manifests, blobs, bytes } = r.removed;
  const verb = r.dryRun ? 'would remove' : 'removed';
  const shared = r.sharedKept
    ? ` (${r.sharedKept} blob${plural(r.sharedKept)} kept: another run or a value without owner uses ${r.sharedKept === 1 ? 'it' : 'them'})`
    : '';
  const counts = `${manifests} value${plural(manifests)}, ${blobs} blob${plural(blobs)}, ${formatBytes(bytes)}`;
  console.log(`${verb} the data of ${owners} run${plural(owners)} from ${r.location}: ${counts}${shared}`);
  const rows = r.owners.map((v) => [
    v.action === 'remove' ? (r.dryRun ? 'remove' : 'removed') : 'kept',
    v.owner.owner,
    `${v.owner.values.length} value${plural(v.owner.values.length)}, ${formatBytes(v.owner.bytes)}`,
    why(v, olderThanMs, retentionMs),
  ]);
  if (rows.length) printTable(rows, '  ');
  printLeftAlone(r.unowned, r.other.length);
  if (!r.dryRun && blobs > 0)
    console.log('the registry frees the disk when its garbage collection runs: docker-registry garbage-collect CONFIG (docs/large-data.md#retention)');
}

function printLeftAlone(unowned: number, other: number): void {
  if (unowned)
    console.log(`${unowned} value${plural(unowned)} without owner (tags sha256-*, stored before retention or by old workers): kept; delete them by hand`);
  if (other) console.log(`${other} other tag${plural(other)} in the repository: left alone (see --json)`);
}

function printTable(rows: string[][], indent = ''): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows)
    console.log(
      indent +
        row
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
    );
}

function time(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
