// At scale: 10,000 sequential steps (100 with --quick), the interpreter against the
// hand-written chain, which continues as new at the same points (10,000 history events, or
// when the server suggests it). One alternating pair (about 10 minutes each side at full size).
import { chainCase, benchWorker } from '../hand-written/cases';
import type { Suite } from '../suite';
import { measureCase } from './interpreter';

export const scaleSuite: Suite = {
  name: 'scale',
  description: 'a long sequential run, both sides continuing as new at the same points',
  async run(env, report) {
    const taskQueue = `bench-scale-${process.pid}`;
    const worker = await benchWorker(env, taskQueue);
    const steps = Number(process.env.PALLET_BENCH_SCALE_STEPS) || (env.quick ? 100 : 10_000);
    await worker.runUntil(async () => {
      report(await measureCase(env, taskQueue, chainCase(steps), 1, 'scale', '≤ 1.2', false));
    });
  },
};

export default scaleSuite;
