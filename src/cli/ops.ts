// Operating runs: `replay` (check a recorded history against the current code), `retry`
// (restart a failed run from its point of failure), and `agents`, which serves the example
// agents of examples/agents/ (not part of the engine: loaded from beside it only when asked).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import { connectClient } from '../client';
import { services as processServices } from '../services';
import { parseHistoryJson, replayHistory } from '../replay';

/** `pallet replay`: exit code 1 when the history does not replay. */
export async function replayAction(workflowId: string | undefined, opts: { runId?: string; history?: string; verbose?: boolean }): Promise<void> {
  // The answer is one line; the SDK's own logs only on request.
  if (!opts.verbose) Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  process.exitCode = (await replayCommand(workflowId, opts)) ? 0 : 1;
}

/** `pallet agents`: serves the example agents until SIGINT/SIGTERM. */
export async function agentsCommand(opts: { host: string; basePort: string; only?: string; publicHost?: string; quiet?: boolean }): Promise<void> {
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
