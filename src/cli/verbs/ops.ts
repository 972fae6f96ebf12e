// `pallet replay`, `retry` and `agents` (ops.ts, retry.ts), defined with commander only.
import type { Command } from 'commander';
import { lazy } from './lazy';

export function registerOpsCommands(program: Command): void {
  program
    .command('replay')
    .description("replay a run's history against the current workflow code and report any nondeterminism")
    .argument('[workflowId]', 'run to fetch from the server (with --history: the id the history ran under, if the file lacks it)')
    .option('--run-id <runId>', 'one run of the workflow id (default: its latest run)')
    .option('--history <file>', 'replay a history JSON file (as exported by the Web UI or `temporal workflow show -o json`) instead')
    .option('--verbose', "also print the bundler's and the replay worker's logs")
    .action(lazy(async () => (await import('../ops')).replayAction));

  program
    .command('retry')
    .description(
      'start a failed (cancelled, terminated, timed-out) run again under its id, from its history (no worker needed to plan it): ' +
        'the steps it finished are not called again, unless a changed input or definition changes their definition or resolved inputs',
    )
    .argument('<workflowId>')
    .option('--run-id <runId>', 'the failed run (default: the latest run of the workflow id)')
    .option('-i, --input <json>', "a changed workflow input (JSON object); default: the failed run's")
    .option('-f, --file <path>', "run this (fixed) definition file instead of the failed run's definition")
    .option('--workflow <ref>', 'run this stored definition instead: id, name:tag or name@sha256:...')
    .option('--json', 'print only the result object as JSON on stdout (with --no-wait: the new run)')
    .option('--no-wait', 'print the new run and return at once')
    .option('--app-dir <dir>', "where completed runs' files go, as for `run`: <dir>/<workflow id>/ (default: app)")
    .option('--app-writer <module>', 'module that writes workflow-specific files (default: PALLET_APP_WRITER)')
    .action(lazy(async () => (await import('../retry')).retryCommand));

  program
    .command('agents')
    .description("serve the example agents (plan, build, test, analysis, router; Pallet's protocol and A2A at /a2a) and the example MCP server until Ctrl-C")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--base-port <port>', 'port of plan-agent; the others follow (+1..+4), the MCP server at +5; 0 for free ports', '8001')
    .option('--only <names>', 'comma-separated agent names to start (plan,build,test,analysis,router)')
    .option('--public-host <host>', 'host name written into the agent cards (e.g. a container name)')
    .option('--quiet', 'do not log each call')
    .action(lazy(async () => (await import('../ops')).agentsCommand));
}
