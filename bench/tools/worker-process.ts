// The real `pallet worker` as a separate process for the throughput suite: the compiled one
// (lib/, as `node bin/pallet.js worker` runs it) so its memory is the worker's, not ts-node's;
// its start-up time and its resident memory read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../test/helpers/temporal';

export const COMPILED = path.join(ROOT, 'lib', 'src');

/**
 * A copy of the compiled code (lib/src/, with its prebuilt bundles) that a build running meanwhile
 * in the same tree cannot change: every worker of a suite then runs the same code and bundle.
 * Kept under .pallet/ in the repository, so that the copy still finds node_modules.
 */
export async function snapshotCompiled(): Promise<{ dir: string; bundled: boolean; remove(): Promise<void> }> {
  if (!existsSync(path.join(COMPILED, 'worker.js'))) throw new Error(`${COMPILED}/worker.js is missing: run \`npm run build\` first`);
  const { findPrebuiltBundle } = await import('../../src/workflow-bundle');
  const dir = path.join(ROOT, '.pallet', `bench-lib-${process.pid}`, 'src');
  const remove = () => rm(path.dirname(dir), { recursive: true, force: true });
  // A build under way may be copied half-written: copy again until the bundle matches the code.
  for (let attempt = 0; ; attempt++) {
    await remove();
    await cp(COMPILED, dir, { recursive: true });
    const found = findPrebuiltBundle(false, dir);
    if ('bundle' in found) return { dir, bundled: true, remove };
    if (attempt >= 5) return { dir, bundled: false, remove };
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

export interface BenchWorker {
  child: ChildProcess;
  /** Milliseconds from spawn to "polling task queue". */
  startupMs: number;
  /** Resident memory now and at its peak (VmRSS, VmHWM), in MB. */
  memory(): Promise<{ rssMb: number; peakMb: number }>;
  stop(): Promise<void>;
}

/** The worker at `compiled` (lib/src/ or a snapshot of it), with these environment variables. */
export async function startBenchWorker(compiled: string, env: Record<string, string>): Promise<BenchWorker> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [path.join(compiled, 'worker.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
