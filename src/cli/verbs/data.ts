// `pallet data list` and `data prune` (data.ts), defined with commander only.
import type { Command } from 'commander';
import { DURATION_HELP } from '../../dsl/durations';
import { lazy } from './lazy';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description("the run data kept in the registry (large values): list it by run, prune closed runs' data");

  data
    .command('list')
    .description('list the stored data by owner (the root run that wrote it): its run state, values, bytes, when last stored')
    .option('--json', 'print {repository, owners: [{owner, run, values, bytes, last_stored}], unowned_values, other_tags} as JSON')
    .action(lazy(async () => (await import('../data')).dataListCommand));

  data
    .command('prune')
    .description("delete the data of runs closed longer ago than --older-than; keeps open runs' data and data another run still uses")
    .requiredOption('--older-than <duration>', `keep the data of runs closed less than this long ago: ${DURATION_HELP}`)
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .option('--json', 'print {repository, dry_run, older_than, cutoff, removed, shared_blobs_kept, owners, unowned_values, other_tags} as JSON')
    .action(lazy(async () => (await import('../data')).dataPruneCommand));
}
