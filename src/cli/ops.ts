// Operating runs: `replay` (check a recorded history against the current code), `retry`
// (restart a failed run from its point of failure), and `agents`, which serves the example
// agents of examples/agents/ (not part of the engine: loaded from beside it only when asked).
import type { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { connectClient, uiLink, type PalletClient } from '../client';
import { services as processServices } from '../services';
import { palletWorkflow } from '../workflows';
import { stateQuery, type PalletWorkflowInput, type RunState } from '../contract';
import { parseHistoryJson, replayHistory } from '../replay';

export function registerOpsCommands(program: Command): void {
  program
    .command('replay')
    .description("replay a run's history against the current workflow code and report any nondeterminism")
    .argument('[workflowId]', 'run to fetch from the server (with --history: the id the history ran under, if the file lacks it)')
    .option('--run-id <runId>')
    .option('--history <file>', 'replay a history JSON file (as exported by the Web UI or `temporal workflow show -o json`) instead')
    .option('--verbose', "also print the bundler's and the replay worker's logs")
    .action(async (workflowId: string | undefined, opts: { runId?: string; history?: string; verbose?: boolean }) => {
      // The answer is one line; the SDK's own logs only on request.
      if (!opts.verbose) Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
      process.exitCode = (await replayCommand(workflowId, opts)) ? 0 : 1;
    });

  program
    .command('retry')
    .description('restart a failed run from the point of failure: finished steps are not called again')
    .argument('<workflowId>')
    .option('--run-id <runId>', 'the failed run (default: the latest run of the workflow id)')
    .option('--no-wait', 'print the new run and return at once')
    .action(retryCommand);

  program
    .command('agents')
    .description('serve the example agents (plan, build, test, analysis, router) until Ctrl-C')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--base-port <port>', 'port of plan-agent; the others follow (+1..+4); 0 for free ports', '8001')
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
      console.log(running.llm ? `LLM mode: ${running.llm.model} at ${running.llm.url}` : 'deterministic mode (set PALLET_LLM_URL and PALLET_LLM_MODEL to use a model)');
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

/** How long `retry` waits for a worker to answer the `state` query of the failed run. */
const RETRY_QUERY_TIMEOUT_MS = 10_000;

/** The first run's input and the outputs of the steps it finished. */
export async function failedRunState(pc: PalletClient, workflowId: string, runId?: string): Promise<{ args: PalletWorkflowInput; state: RunState; runId: string }> {
  const handle = pc.client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe();
  if (description.type !== palletWorkflow.name) throw new Error(`${workflowId} is a ${description.type}, not a Pallet run`);
  const status = description.status.name;
  if (status === 'RUNNING' || status === 'COMPLETED') throw new Error(`${workflowId} is ${status.toLowerCase()}; only failed, timed out, cancelled or terminated runs can be retried`);
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new Error(`cannot read the input of ${workflowId} from its history`);
  const args = defaultPayloadConverter.fromPayload<PalletWorkflowInput>(payload);
  // The stored outputs of finished steps come from the workflow (a worker replays it): give
  // up after a few seconds rather than the server's 30 when no worker serves the queue.
  const { connection } = await pc.services.temporal();
  const state = await connection.withDeadline(Date.now() + RETRY_QUERY_TIMEOUT_MS, () => handle.query(stateQuery)).catch((err: Error) => {
    throw new Error(`cannot read the finished steps of ${workflowId}: no worker answered within ${RETRY_QUERY_TIMEOUT_MS / 1000} s (start one with \`npx pallet worker\`; \`npx pallet status ${workflowId}\` works without): ${err.message.split('\n')[0]}`);
  });
  if (!state) throw new Error(`${workflowId} failed before its definition was loaded; start it again with \`pallet run\``);
  return { args: { ...args, source: args.source }, state, runId: description.runId };
}

async function retryCommand(workflowId: string, opts: { runId?: string; wait: boolean }): Promise<void> {
  const services = processServices();
  try {
    const pc = await connectClient(services);
    const { args, state, runId: failedRunId } = await failedRunState(pc, workflowId, opts.runId);
    const completed: Record<string, unknown> = { ...(args.completed ?? {}) };
    for (const id of state.finished) completed[id] = state.step_outputs[id].outputs;
    const handle = await pc.client.workflow.start(palletWorkflow, {
      taskQueue: services.settings.taskQueue,
      workflowId,
      // Children run the definitions the failed run pinned, whatever their tags say now.
      // Call ids stay those of the first run, so an agent recognises a call it already took.
      args: [{ ...args, completed, pinned: { ...(args.pinned ?? {}), ...(state.pinned ?? {}) }, callsOf: args.callsOf ?? `${workflowId}/${failedRunId}` }],
      memo: { retryOf: opts.runId ?? 'latest', definitionRef: args.source?.ref ?? null, definitionDigest: args.source?.digest ?? null },
    });
    console.log(`retrying ${workflowId} as run ${handle.firstExecutionRunId}; reusing ${Object.keys(completed).length} finished step(s): ${Object.keys(completed).join(', ') || '-'}`);
    console.log(`  ${uiLink(pc, workflowId, handle.firstExecutionRunId)}`);
    if (!opts.wait) return;
    try {
      const result = await handle.result();
      console.log(`completed: ${JSON.stringify(result).slice(0, 200)}`);
    } catch (err) {
      console.error(`retry failed: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
      process.exitCode = 1;
    }
  } finally {
    await services.close();
  }
}
