// The real `pallet worker` as a separate process for the throughput suite: the compiled one
// (lib/, as `node bin/pallet.js worker` runs it) so its memory is the worker's, not ts-node's;
// its start-up time and its resident memory read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../test/helpers/temporal';

export const COMPILED_WORKER = path.join(ROOT, 'lib', 'src', 'worker.js');

export interface BenchWorker {
  child: ChildProcess;
  /** Milliseconds from spawn to "polling task queue". */
  startupMs: number;
  /** Resident memory now and at its peak (VmRSS, VmHWM), in MB. */
  memory(): Promise<{ rssMb: number; peakMb: number }>;
  stop(): Promise<void>;
}

export async function startBenchWorker(env: Record<string, string>): Promise<BenchWorker> {
  if (!existsSync(COMPILED_WORKER)) throw new Error(`${COMPILED_WORKER} is missing: run \`npm run build\` first`);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [COMPILED_WORKER], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
    if (process.env.DEBUG_WORKER) process.stderr.write(d);
  };
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      keep(d);
      if (output.includes('polling task queue')) resolve();
    });
    void exited.then(() => reject(new Error(`worker exited (${child.exitCode}) before polling:\n${output}`)));
  });
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    child,
    startupMs,
    memory: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
