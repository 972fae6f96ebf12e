// One side of the "at scale" case (bench/suites/scale.ts) in this process, to profile the
// worker: `node --cpu-prof --cpu-prof-dir=.pallet/prof -r ts-node/register/transpile-only
// bench/tools/profile-scale.ts [steps] [ours|reference]`. Workflow tasks run in the SDK's
// worker thread, which --cpu-prof profiles too (one .cpuprofile per thread); summarise with
// bench/tools/cpuprofile-top.ts. Prints the first generation's history figures (tasks, ms each).
import { benchWorker, chainCase, describeHistory, historyFigures, timedRun } from '../hand-written/cases';
import { startBenchEnv } from '../env';

/** The longest workflow tasks of one run's history (started to completed), in ms. */
async function longestTasks(handle: { fetchHistory(): Promise<{ events?: unknown[] | null }> }, n = 3): Promise<number[]> {
  const ms = (t?: { seconds?: unknown; nanos?: number | null } | null) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const tasks: number[] = [];
  let started: number | undefined;
  for (const event of ((await handle.fetchHistory()).events ?? []) as Record<string, unknown>[]) {
    const at = ms(event.eventTime as { seconds?: unknown; nanos?: number });
    if (event.workflowTaskStartedEventAttributes) started = at;
    if (event.workflowTaskCompletedEventAttributes && started !== undefined) tasks.push(at - started);
  }
  return tasks.sort((a, b) => b - a).slice(0, n);
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2]) || 2000;
  const side = process.argv[3] === 'reference' ? 'reference' : 'ours';
  const { env, stop } = await startBenchEnv({ quick: true });
  try {
    const taskQueue = `profile-scale-${process.pid}`;
    const worker = await benchWorker(env, taskQueue);
    await worker.runUntil(async () => {
      const run = await timedRun(env.client, taskQueue, chainCase(steps), side);
      // A handle from start() reads the chain's latest run: each generation is named by its run id.
      const firstRun = env.client.workflow.getHandle(run.handle.workflowId, run.handle.firstExecutionRunId);
      for (const [name, handle] of [
        ['first', firstRun],
        ['last', run.handle],
      ] as const) {
        const h = await historyFigures(handle as typeof run.handle);
        console.log(
          `${side}, ${steps} steps: ${run.seconds.toFixed(1)} s; ${name} generation: ${describeHistory(h)}, ${((h.taskSeconds * 1000) / h.workflowTasks).toFixed(1)} ms a task`,
        );
      }
      // Each generation's first task walks the steps carried into it (the interpreter's side): the last's walks the most.
      const last = await longestTasks(env.client.workflow.getHandle(run.handle.workflowId));
      console.log(
        `longest tasks (ms): first generation ${(await longestTasks(firstRun)).map((t) => t.toFixed(0)).join(', ')}; last ${last.map((t) => t.toFixed(0)).join(', ')}`,
      );
    });
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
