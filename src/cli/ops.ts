// Operating runs: `replay` (check a recorded history against the current code), `retry`
// (restart a failed run from its point of failure), and `agents`, which serves the example
// agents of examples/agents/ (not part of the engine: loaded from beside it only when asked).
import type { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { connectClient } from '../client';
import { services as processServices } from '../services';
import { parseHistoryJson, replayHistory } from '../replay';
import { retryCommand } from './retry';

export function registerOpsCommands(program: Command): void {
  program
    .command('replay')
    .description("replay a run's history against the current workflow code and report any nondeterminism")
    .argument('[workflowId]', 'run to fetch from the server (with --history: the id the history ran under, if the file lacks it)')
    .option('--run-id <runId>', 'one run of the workflow id (default: its latest run)')
    .option('--history <file>', 'replay a history JSON file (as exported by the Web UI or `temporal workflow show -o json`) instead')
    .option('--verbose', "also print the bundler's and the replay worker's logs")
    .action(async (workflowId: string | undefined, opts: { runId?: string; history?: string; verbose?: boolean }) => {
      // The answer is one line; the SDK's own logs only on request.
      if (!opts.verbose) Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
      process.exitCode = (await replayCommand(workflowId, opts)) ? 0 : 1;
    });

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
    .action(retryCommand);

  program
    .command('agents')
    .description("serve the example agents (plan, build, test, analysis, router; Pallet's protocol and A2A at /a2a) and the example MCP server until Ctrl-C")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--base-port <port>', 'port of plan-agent; the others follow (+1..+4), the MCP server at +5; 0 for free ports', '8001')
    .option('--only <names>', 'comma-separated agent names to start (plan,build,test,analysis,router)')
    .option('--public-host <host>', 'host name written into the agent cards (e.g. a container name)')
    .option('--quiet', 'do not log each call')
    .action(async (opts: { host: string; basePort: string; only?: string; publicHost?: string; quiet?: boolean }) => {
      const { startExampleAgents } = await loadExampleAgents();
      const running = await startExampleAgents({
        host: opts.host,
        basePort: Number(opts.basePort),
        only: opts.only?.split(','),
        publicHost: opts.publicHost,
        log: opts.quiet ? undefined : (line) => console.log(line),
      });
      for (const a of running.agents) console.log(`${a.name}: ${a.url} (${a.skills.join(', ')})`);
      console.log(
        running.llm ? `LLM mode: ${running.llm.model} at ${running.llm.url}` : 'deterministic mode (set PALLET_LLM_URL and PALLET_LLM_MODEL to use a model)',
      );
      const stop = () => void running.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** What `pallet agents` uses of examples/agents/main. */
interface ExampleAgentsModule {
  startExampleAgents(opts: { host: string; basePort: number; only?: string[]; publicHost?: string; log?: (line: string) => void }): Promise<{
    agents: { name: string; url: string; skills: string[] }[];
    llm: { url: string; model: string } | null;
    close(): Promise<void>;
  }>;
}

/**
 * examples/agents/main: the same path relative to this file from source (src/cli/) and
 * compiled (lib/src/cli/ → lib/examples/agents/). Resolved at run time so the engine does not
 * depend on the examples.
 */
export const EXAMPLE_AGENTS_MODULE = path.join(__dirname, '..', '..', 'examples', 'agents', 'main');

async function loadExampleAgents(): Promise<ExampleAgentsModule> {
  try {
    return (await import(EXAMPLE_AGENTS_MODULE)) as ExampleAgentsModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(EXAMPLE_AGENTS_MODULE)) {
      throw new Error(`the example agents are not installed here (${EXAMPLE_AGENTS_MODULE} is missing); build them with \`npm run build\``);
    }
    throw err;
  }
}

async function replayCommand(workflowId: string | undefined, opts: { runId?: string; history?: string }): Promise<boolean> {
  let history: temporal.api.history.v1.IHistory;
  let label: string;
  if (opts.history) {
    const parsed = parseHistoryJson(JSON.parse(await readFile(opts.history, 'utf8')));
    history = parsed.history;
    label = workflowId ?? parsed.workflowId ?? path.basename(opts.history, '.json');
  } else if (workflowId) {
    const services = processServices();
    try {
      const pc = await connectClient(services);
      history = await pc.client.workflow.getHandle(workflowId, opts.runId).fetchHistory();
    } finally {
      await services.close();
    }
    label = workflowId;
  } else {
    throw new Error('give a workflow id or --history FILE');
  }
  try {
    await replayHistory(history, label);
  } catch (err) {
    console.error(`replay of ${label} FAILED: ${(err as Error).name}: ${(err as Error).message}`);
    console.error('the current workflow code would not reproduce this history: runs like it would get stuck if this code were deployed');
    return false;
  }
  console.log(`replay of ${label}: OK (the current code reproduces its history)`);
  return true;
}
