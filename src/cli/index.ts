// The `pallet` command: the program and its subcommands, each a thin front end to
// client.ts, worker.ts, the DSL loader or the registry. Only commander is loaded to define
// them: each verb loads its implementation when it runs (verbs/lazy.ts), so that `--help`
// and the light verbs start fast (docs/cli.md#start-up).
import { Command, CommanderError } from 'commander';
import { registerGraphCommand } from './graph';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { registerApprovalCommands } from './verbs/approvals';
import { registerDataCommands } from './verbs/data';
import { lazy } from './verbs/lazy';
import { registerOpsCommands } from './verbs/ops';
import { registerRegistryCommands } from './verbs/registry';
import { registerRunCommands } from './verbs/runs';
import { registerScheduleCommands } from './schedules';
import { registerServeCommand } from './serve';

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (!isServiceError(err)) throw err;
    const { loadSettings } = await import('../settings');
    throw serverErrorExplained(err, loadSettings(process.env).temporal.connection.address);
  }
}

/** The SDK's ServiceError, told by its name (the SDK marks it so) without loading the client. */
function isServiceError(err: unknown): err is Error & { cause?: unknown } {
  return err instanceof Error && err.name === 'ServiceError';
}

/**
 * A gRPC error the server (or whatever answered at its address) gave, as a line that names
 * the address and the reason, instead of the SDK's bare "Failed to describe workflow".
 */
export function serverErrorExplained(err: unknown, address: string): unknown {
  if (!isServiceError(err)) return err;
  const details = (err.cause as { details?: string } | undefined)?.details;
  const http = details && /Received HTTP status code|Received HTTP|protocol/i.test(details);
  const why = http
    ? `something that is not a Temporal frontend answers there (${details}); point TEMPORAL_ADDRESS at the server's gRPC port (7233 by default)`
    : details || 'no reason given';
  return new Error(`${err.message} at Temporal ${address}: ${why}`);
}

export function buildProgram(): Command {
  const program = new Command('pallet')
    .description('Run Pallet YAML workflows of agent calls durably on Temporal')
    .version(packageVersion(), '-V, --version', 'print the version of pallet')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('start a workflow run by workflow ID and wait for its result')
    .argument('[requirements...]', 'plain text input, passed as {"requirements": "..."} (as Pallet\'s CLI does)')
    .option('-f, --file <path>', 'run the definition in this YAML file')
    // No -w: the Temporal CLI uses -w for the workflow id.
    .option('--workflow <ref>', 'run a stored definition: id (code-generation-v1), name:tag or name@sha256:... (default: code-generation-v1)')
    .option('-i, --input <json>', 'workflow input as a JSON object')
    .option('--id <workflowId>', 'Temporal workflow id (default: definition id plus a unique suffix)')
    .option('--json', 'print only the result object as JSON on stdout (a failure: {workflow_id, run_id, status, error, url}); write no files')
    .option('--no-wait', 'print the workflow id and Web UI address, and return at once')
    .option(
      '--app-dir <dir>',
      "where completed runs' files go: <dir>/<workflow id>/ (result.json, metadata.json and the app writer's), <dir>/latest links to the newest (default: app)",
    )
    .option(
      '--app-writer <module>',
      "module that writes workflow-specific files into the run's folder, e.g. lib/examples/code-generation/app-files.js (default: PALLET_APP_WRITER)",
    )
    .action(lazy(async () => (await import('./run')).runCommand));

  program
    .command('lint')
    .description('validate workflow definitions; one line per problem as FILE:LINE:COL: message')
    .argument('<files...>', 'definition files')
    .option('--check-agents', "also check skills and required inputs against the registry's agent cards")
    .option('--json', 'print the problems as a JSON array of {file, line, column, field, message, severity} on stdout')
    .action(async (files: string[], opts: { checkAgents?: boolean; json?: boolean }) => {
      const { lintFiles } = await import('./lint');
      process.exitCode = (await lintFiles(files, opts)) ? 0 : 1;
    });

  program
    .command('worker')
    .description('run a worker on the task queue (PALLET_TASK_QUEUE, default "pallet") until SIGINT/SIGTERM')
    .action(async () => {
      const { runWorker } = await import('../worker');
      await runWorker();
    });

  registerGraphCommand(program);
  registerRunCommands(program);
  registerApprovalCommands(program);
  registerRegistryCommands(program);
  registerOpsCommands(program);
  registerDataCommands(program);
  registerServeCommand(program);
  registerScheduleCommands(program);
  return program;
}

/** The version in package.json: two folders up from src/cli/, three from lib/src/cli/. */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pallet-temporal' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
