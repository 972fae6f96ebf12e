// Worker processes for durability tests: the real `pallet worker` entry point, killed and
// restarted by the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './temporal';

export interface WorkerProcess extends ChildProcess {
  /** Resolves once the worker says it is polling its task queue. */
  ready: Promise<void>;
}

/**
 * The environment of a worker process on the test server: its task queue, agents found at
 * `agentUrl` only (no registry discovery), and, when given, definitions from a folder.
 */
export function workerProcessEnv(
  server: { address: string; namespace?: string },
  taskQueue: string,
  agentUrl: string,
  workflowsDir?: string,
): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace ?? 'default',
    PALLET_TASK_QUEUE: taskQueue,
    PALLET_AGENT_URLS: agentUrl,
    ...(workflowsDir ? { PALLET_WORKFLOWS_DIR: workflowsDir } : {}),
    PALLET_REGISTRY_DISCOVERY: 'false',
  };
}

/** The real `pallet worker` entry point, as a separate process. */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env.DEBUG_WORKER) process.stderr.write(d);
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('polling task queue')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling`)));
  });
  ready.catch(() => undefined);
  return Object.assign(child, { ready });
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

export async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
