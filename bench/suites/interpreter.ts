// Interpreter vs hand-written: the same agent calls through the same activity, run by the
// interpreter from a Pallet definition and by a hand-written Temporal workflow, alternating on
// one worker; server-recorded start-to-close times; and, per case, what one history of each
// holds (workflow tasks, events, bytes), to say where a difference comes from.
import { alternate, ratio } from '../stats';
import type { BenchEnv, BenchRow, Suite } from '../suite';
import { benchWorker, chainCase, describeHistory, fanOutCase, historyFigures, mapCase, timedRun, type BenchCase, type TimedRun } from '../hand-written/cases';

export const TARGET = '≤ 1.05';

export function interpreterCases(quick: boolean): BenchCase[] {
  return [chainCase(1), chainCase(10), chainCase(100), fanOutCase(10), fanOutCase(100), fanOutCase(500), mapCase(quick ? 200 : 1000, 50)];
}

/**
 * Measures one case: an untimed warm-up pair (unless `warmUp` is false), then `times`
 * alternating pairs; the histories are those of the first timed pair.
 */
export async function measureCase(
  env: BenchEnv,
  taskQueue: string,
  c: BenchCase,
  times: number,
  suite: string,
  target: string,
  warmUp = true,
): Promise<BenchRow> {
  if (warmUp) {
    await timedRun(env.client, taskQueue, c, 'ours');
    await timedRun(env.client, taskQueue, c, 'reference');
  }
  let ours: TimedRun | undefined;
  let reference: TimedRun | undefined;
  const measured = await alternate(
    times,
    async () => {
      const run = await timedRun(env.client, taskQueue, c, 'ours');
      ours ??= run;
      return run.seconds;
    },
    async () => {
      const run = await timedRun(env.client, taskQueue, c, 'reference');
      reference ??= run;
      return run.seconds;
    },
  );
  const [oursHistory, referenceHistory] = await Promise.all([historyFigures(ours!.handle), historyFigures(reference!.handle)]);
  const sameResult = JSON.stringify(ours!.result) === JSON.stringify(reference!.result);
  return {
    suite,
    case: c.name,
    unit: 's',
    ours: measured.ours,
    reference: measured.reference,
    referenceName: 'hand-written workflow',
    ratio: ratio(measured.ours, measured.reference),
    target,
    note: `ours ${describeHistory(oursHistory)}; hand-written ${describeHistory(referenceHistory)}${sameResult ? '' : '; RESULTS DIFFER'}`,
    details: { sameResult, oursHistory, referenceHistory },
  };
}

export const interpreterSuite: Suite = {
  name: 'interpreter',
  description: 'the interpreter against a hand-written workflow making the same agent calls (server-recorded start to close)',
  async run(env, report) {
    const taskQueue = `bench-interpreter-${process.pid}`;
    const worker = await benchWorker(env, taskQueue);
    const times = env.quick ? 2 : 5;
    await worker.runUntil(async () => {
      for (const c of interpreterCases(env.quick)) report(await measureCase(env, taskQueue, c, times, 'interpreter', TARGET));
    });
  },
};

export default interpreterSuite;
