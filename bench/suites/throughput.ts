// Throughput: Pallet's `code-generation-v1` (three agent calls) run as `pallet run` starts it (the
// definition pinned in the registry, loaded by the worker), against the real `pallet worker` in
// its own process and the bench's instant agent (HTTP on loopback). Completed runs per second
// and client-side latency at 1, 10 and 50 concurrent clients; the worker's start-up time and
// peak resident memory (VmHWM) with 200 runs in flight; and what each tuning knob
// (src/worker-tuning.ts) did to those figures, each against the same worker without it.
import type { Client } from '@temporalio/client';
import { resolveTarget, startRun, type RunTarget } from '../../src/client';
import { Services } from '../../src/services';
import { loadSettings } from '../../src/settings';
import { startTestAgent, type TestAgent } from '../../test/helpers/agents';
import { uniqueId } from '../../test/helpers/worker';
import { stats } from '../stats';
import type { BenchEnv, BenchRow, Suite } from '../suite';
import { snapshotCompiled, startBenchWorker, type BenchWorker } from '../tools/worker-process';

const WORKFLOW = 'code-generation-v1';
const INPUT = { requirements: 'a command-line expense tracker' };

interface Load {
  runsPerSecond: number;
  latenciesMs: number[];
}

/** One run, as `pallet run` makes it, to completion: its latency in ms. */
async function oneRun(client: Client, services: Services, target: RunTarget): Promise<number> {
  const started = process.hrtime.bigint();
  const handle = await startRun({ client, services }, target, { input: INPUT });
  await handle.result().catch((err: Error) => {
    throw new Error(`${handle.workflowId} failed: ${(err.cause as Error | undefined)?.message ?? err.message}`);
  });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** `runs` runs shared out to `clients` concurrent loops, each starting its next run when the last completes. */
async function load(client: Client, services: Services, target: RunTarget, clients: number, runs: number): Promise<Load> {
  const latenciesMs: number[] = [];
  let left = runs;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (left > 0) {
        left--;
        latenciesMs.push(await oneRun(client, services, target));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { runsPerSecond: runs / seconds, latenciesMs };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Setup {
  /** The instant agents' base URL. */
  agentUrl: string;
  /** The compiled code the workers run (a snapshot of lib/src). */
  compiled: string;
}

/**
 * Instant agents for the three skills, answering in the shapes the workflow reads (the build
 * step's `code` and `language`): the bench's echo agent does not give `code`, which review_code requires.
 */
function startCodeAgents(): Promise<TestAgent> {
  return startTestAgent('bench-code-agents', {
    create_plan: (p) => ({ title: 'plan', steps: [{ name: 'write it', description: String(p.requirements), time: '1h' }] }),
    generate_code: () => ({ code: 'print("hello")', language: 'python' }),
    review_code: (p) => ({ approved: true, comments: [], lines: String(p.code).split('\n').length }),
  });
}

/** A worker with these tuning variables, on its own task queue, with the client side to drive it. */
async function withWorker<T>(
  env: BenchEnv,
  { agentUrl, compiled }: Setup,
  tuning: Record<string, string>,
  body: (ctx: { worker: BenchWorker; run: (clients: number, runs: number) => Promise<Load> }) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('bench-throughput');
  const vars: Record<string, string> = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace,
    PALLET_TASK_QUEUE: taskQueue,
    PALLET_REGISTRY: `http://${env.registry}`,
    // Before the registry's cards: the agents that answer this workflow's skills.
    PALLET_AGENT_URLS: agentUrl,
    // A fresh skill index every 30 s, as by default: the registry's cards point at the instant agent.
    PALLET_DISCOVERY_TTL: '30',
    ...tuning,
  };
  const services = new Services(loadSettings(vars), () => undefined);
  const worker = await startBenchWorker(compiled, vars);
  try {
    const target = await resolveTarget({ workflow: WORKFLOW }, services);
    // One run first: the worker's first workflow task and card discovery are not in the figures.
    await oneRun(env.client, services, target);
    return await body({ worker, run: (clients, runs) => load(env.client, services, target, clients, runs) });
  } finally {
    await worker.stop();
    await services.close();
  }
}

/** Peak resident memory (MB) of a fresh worker through `inFlight` runs started at once. */
async function peakMemory(
  env: BenchEnv,
  setup: Setup,
  tuning: Record<string, string>,
  inFlight: number,
): Promise<{ peakMb: number; idleMb: number; startupMs: number }> {
  return withWorker(env, setup, tuning, async ({ worker, run }) => {
    const idleMb = (await worker.memory()).rssMb;
    await run(inFlight, inFlight);
    return { peakMb: (await worker.memory()).peakMb, idleMb, startupMs: worker.startupMs };
  });
}

/** The knobs tried, each against the shipped configuration (SDK defaults, prebuilt bundle). */
const KNOBS: { name: string; vars: Record<string, string> }[] = [
  { name: 'no prebuilt bundle (PALLET_PREBUILT_BUNDLE=off)', vars: { PALLET_PREBUILT_BUNDLE: 'off' } },
  { name: 'PALLET_MAX_CACHED_WORKFLOWS=50', vars: { PALLET_MAX_CACHED_WORKFLOWS: '50' } },
  { name: 'PALLET_MAX_WORKFLOW_TASKS=200', vars: { PALLET_MAX_WORKFLOW_TASKS: '200' } },
  { name: 'PALLET_MAX_ACTIVITIES=400', vars: { PALLET_MAX_ACTIVITIES: '400' } },
  { name: 'PALLET_WORKFLOW_POLLERS=auto', vars: { PALLET_WORKFLOW_POLLERS: 'auto' } },
];

export const throughput: Suite = {
  name: 'throughput',
  description: `${WORKFLOW} with instant agents: runs per second and latency at 1, 10 and 50 clients, worker start-up and peak memory, tuning knobs`,
  async run(env, report) {
    const quick = env.quick;
    const agents = await startCodeAgents();
    // Thousands of calls: not recorded.
    agents.calls.push = () => 0;
    const snapshot = await snapshotCompiled();
    try {
      if (!snapshot.bundled) throw new Error('lib/src has no prebuilt workflow bundle matching its code: run `npm run build` first');
      await measure(env, { agentUrl: agents.url, compiled: snapshot.dir }, quick, report);
    } finally {
      await agents.close();
      await snapshot.remove();
    }
  },
};

async function measure(env: BenchEnv, setup: Setup, quick: boolean, report: (row: BenchRow) => void): Promise<void> {
  const row = (r: Omit<BenchRow, 'suite'>) => report({ suite: 'throughput', ...r });

  // Runs per second and latency, on the shipped configuration; repeated on fresh workers.
  const sizes: [clients: number, runs: number][] = quick
    ? [
        [1, 5],
        [10, 20],
        [50, 50],
      ]
    : [
        [1, 20],
        [10, 100],
        [50, 300],
      ];
  const repetitions = quick ? 1 : 3;
  const perSize = sizes.map(() => ({ rps: [] as number[], p50: [] as number[], p95: [] as number[] }));
  for (let rep = 0; rep < repetitions; rep++) {
    await withWorker(env, setup, {}, async ({ run }) => {
      for (const [i, [clients, runs]] of sizes.entries()) {
        const { runsPerSecond, latenciesMs } = await run(clients, runs);
        perSize[i].rps.push(runsPerSecond);
        perSize[i].p50.push(percentile(latenciesMs, 50));
        perSize[i].p95.push(percentile(latenciesMs, 95));
      }
    });
  }
  for (const [i, [clients, runs]] of sizes.entries()) {
    const note = `${runs} runs per repetition, ${repetitions} fresh workers`;
    row({ case: `${clients} client${clients > 1 ? 's' : ''}: completed runs`, unit: 'runs/s', ours: stats(perSize[i].rps), note });
    row({ case: `${clients} client${clients > 1 ? 's' : ''}: p50 latency`, unit: 'ms', ours: stats(perSize[i].p50) });
    row({ case: `${clients} client${clients > 1 ? 's' : ''}: p95 latency`, unit: 'ms', ours: stats(perSize[i].p95) });
  }

  // Start-up and peak memory with 200 runs in flight; then each knob against the shipped configuration.
  const inFlight = quick ? 50 : 200;
  // One pair per knob (alternating sides between knobs): the whole suite then fits in about 15 minutes.
  const knobReps = 1;
  const loadClients = 10;
  const loadRuns = quick ? 20 : 100;
  const shipped = { startup: [] as number[], peak: [] as number[], idle: [] as number[] };
  for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
    const m = await peakMemory(env, setup, {}, inFlight);
    shipped.startup.push(m.startupMs);
    shipped.peak.push(m.peakMb);
    shipped.idle.push(m.idleMb);
  }
  row({
    case: `worker peak RSS, ${inFlight} runs in flight`,
    unit: 'MB',
    ours: stats(shipped.peak),
    target: '< 400 MB',
    note: 'VmHWM of a fresh `pallet worker` process (lib/)',
  });
  row({ case: 'worker RSS when idle (after start, one run)', unit: 'MB', ours: stats(shipped.idle) });
  row({ case: 'worker start-up (spawn to polling)', unit: 'ms', ours: stats(shipped.startup) });

  for (const knob of KNOBS) {
    const ours = { rps: [] as number[], p95: [] as number[], peak: [] as number[], startup: [] as number[] };
    const ref = { rps: [] as number[], p95: [] as number[], peak: [] as number[], startup: [] as number[] };
    for (let rep = 0; rep < knobReps; rep++) {
      // Alternating which goes first, so a slow minute hurts both alike.
      for (const [side, vars] of (rep + KNOBS.indexOf(knob)) % 2 === 0
        ? [[ours, knob.vars] as const, [ref, {}] as const]
        : [[ref, {}] as const, [ours, knob.vars] as const]) {
        await withWorker(env, setup, vars, async ({ worker, run }) => {
          const measured = await run(loadClients, loadRuns);
          side.rps.push(measured.runsPerSecond);
          side.p95.push(percentile(measured.latenciesMs, 95));
          side.startup.push(worker.startupMs);
          await run(inFlight, inFlight);
          side.peak.push((await worker.memory()).peakMb);
        });
      }
    }
    const versus = (unit: string, a: number[], b: number[], what: string) => {
      const o = stats(a);
      const r = stats(b);
      row({ case: `${knob.name}: ${what}`, unit, ours: o, reference: r, referenceName: 'shipped', ratio: o.median / r.median });
    };
    versus('runs/s', ours.rps, ref.rps, `${loadClients} clients runs/s`);
    versus('ms', ours.p95, ref.p95, `${loadClients} clients p95`);
    versus('MB', ours.peak, ref.peak, `peak RSS after ${inFlight} in flight`);
    versus('ms', ours.startup, ref.startup, 'start-up');
  }
}

export default throughput;
