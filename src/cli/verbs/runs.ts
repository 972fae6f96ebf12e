// `pallet status`, `result` (`watch`), `runs`, `cancel` and `terminate`: the verbs of runs.ts,
// defined here with commander only; each loads runs.ts when it runs.
import type { Command } from 'commander';
import { lazyWithClient } from './lazy';

export function registerRunCommands(program: Command): void {
  program
    .command('status')
    .description(
      "print a run's state: status, each step with its state, attempts, duration and output, the failure (a running run: the worker's live state; a closed one: from the server's history, no worker needed)",
    )
    .argument('<workflowId>')
    .option('--run-id <runId>', 'one run of the workflow id (default: its latest run)')
    .option('--json', 'print the state as JSON')
    .action(lazyWithClient(async () => (await import('../runs')).statusCommand));

  program
    .command('result')
    .alias('watch')
    .description(
      're-attach to a run: follow it while it runs (progress as `run` shows it), then print and save its result as `run` does; exit 1 with the failure of a failed run',
    )
    .argument('<workflowId>')
    .option('--run-id <runId>', 'one run of the workflow id (default: its latest run)')
    .option('--json', 'print only the result object (or the failure) as JSON on stdout, and write no files')
    .option('--app-dir <dir>', "where completed runs' files go, as for `run`: <dir>/<workflow id>/ (default: app)")
    .option('--app-writer <module>', 'module that writes workflow-specific files (default: PALLET_APP_WRITER)')
    .action(lazyWithClient(async () => (await import('../runs')).resultCommand));

  program
    .command('runs')
    .description('list Pallet runs, newest first: id, status, definition, start time, duration')
    .option('-s, --status <status>', 'only runs with this status (comma-separated): running, completed, failed, cancelled, terminated, timed-out')
    .option('-n, --limit <n>', 'at most this many runs', '20')
    .option('-d, --definition <id>', 'only runs of this definition id (e.g. code-generation-v1)')
    .option('--schedule <id>', 'only runs started by this schedule (pallet schedule list)')
    .option('--children', 'also list the child runs of execute_workflow steps')
    .option('--json', 'print the runs as a JSON array')
    .action(lazyWithClient(async () => (await import('../runs')).runsCommand));

  program
    .command('cancel')
    .description('ask a running run to stop: its steps under way are cancelled and it ends CANCELLED (a worker carries the request out)')
    .argument('<workflowId>')
    .option('--run-id <runId>', 'one run of the workflow id (default: its latest run)')
    .option('--json', 'print the outcome as JSON')
    .action(lazyWithClient(async () => (await import('../runs')).cancelCommand));

  program
    .command('terminate')
    .description('stop a running run at once, on the server, without a worker: nothing more of it runs')
    .argument('<workflowId>')
    .option('--run-id <runId>', 'one run of the workflow id (default: its latest run)')
    .option('--reason <text>', 'why, recorded in the history')
    .option('--json', 'print the outcome as JSON')
    .action(lazyWithClient(async () => (await import('../runs')).terminateCommand));
}
