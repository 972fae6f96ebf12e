// `pallet schedule ...`: workflows on Temporal Schedules (issue 19).
// Only commander is imported here; the client is loaded when a verb runs.
import type { Command } from 'commander';

/** The implementation, loaded on use: `pallet --help` stays fast. */
const verbs = () => import('../schedules/commands');

export function registerScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('run a stored workflow on a Temporal Schedule: create, list, describe, pause, unpause, trigger, delete (docs/schedules.md)');

  schedule
    .command('create')
    .description('create a schedule that runs a stored workflow by cron or at an interval, pinned to the digest its reference has now')
    .argument('<id>', 'schedule id (scheduled runs get workflow ids <id>-<scheduled time>)')
    .requiredOption('--workflow <ref>', 'stored definition to run: id (code-generation-v1), name:tag or name@sha256:...')
    .option('--cron <expression>', 'when to run, as cron: "0 9 * * MON-FRI" (UTC; CRON_TZ=Europe/Paris ... for a zone), @daily, @hourly')
    .option('--every <duration>', 'run at this interval: 90s, 15m, 1h, 1d (at least 1s)')
    .option('-i, --input <json>', 'input of every run, as a JSON object')
    .option('--overlap <policy>', 'when a run is due while the last still runs: skip it, buffer one, or allow both', 'skip')
    .option('--resolve-each-run', "resolve the workflow's tag when each run starts, instead of pinning the digest it has now")
    .option('--json', 'print the schedule as JSON (as `schedule describe --json`)')
    .action(async (id: string, opts) => (await verbs()).createCommand(id, opts));

  schedule
    .command('list')
    .description("list Pallet's schedules: what each runs, when, whether paused, its next run")
    .option('--json', 'print the schedules as a JSON array')
    .action(async (opts) => (await verbs()).listCommand(opts));

  schedule
    .command('describe')
    .description('show a schedule: its workflow and pinned digest, when, overlap, input, state, next and recent runs')
    .argument('<id>', 'schedule id')
    .option('--json', 'print the schedule as JSON')
    .action(async (id: string, opts) => (await verbs()).describeCommand(id, opts));

  schedule
    .command('pause')
    .description('pause a schedule: no new runs until unpaused (runs under way go on)')
    .argument('<id>', 'schedule id')
    .option('--note <text>', 'why, shown by describe and the Web UI')
    .action(async (id: string, opts) => (await verbs()).pauseCommand(id, opts));

  schedule
    .command('unpause')
    .description('unpause a schedule: runs start again at its next time')
    .argument('<id>', 'schedule id')
    .option('--note <text>', 'why, shown by describe and the Web UI')
    .action(async (id: string, opts) => (await verbs()).unpauseCommand(id, opts));

  schedule
    .command('trigger')
    .description("start one of the schedule's runs now, paused or not")
    .argument('<id>', 'schedule id')
    .action(async (id: string) => (await verbs()).triggerCommand(id));

  schedule
    .command('delete')
    .description('delete a schedule (its runs are kept)')
    .argument('<id>', 'schedule id')
    .action(async (id: string) => (await verbs()).deleteCommand(id));
}
