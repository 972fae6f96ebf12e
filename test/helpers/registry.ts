// A real OCI registry for integration tests: Debian's `docker-registry` (CNCF distribution
// 2.8) on a free loopback port, storing into a fresh temp folder, killed on stop.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net';

export { freePort };

const REGISTRY_BIN = process.env.DOCKER_REGISTRY_BIN || '/usr/bin/docker-registry';

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Lines of an htpasswd file (bcrypt): turns on Basic auth. */
  htpasswd?: string;
}

export function orasPath(): string {
  return path.resolve(__dirname, '../../.tools/bin/oras');
}

export function registryBinaryAvailable(): boolean {
  return existsSync(REGISTRY_BIN);
}

/** Runs the oras CLI; rejects with its output when it fails. */
export function runOras(args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(orasPath(), args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`oras ${args.join(' ')} failed: ${stderr || stdout || err.message}`));
      else resolve(stdout);
    });
  });
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: pallet-test\n    path: ${path.join(dir, 'htpasswd')}\n`
    : '';
  if (options.htpasswd) await writeFile(path.join(dir, 'htpasswd'), `${options.htpasswd.trim()}\n`);
  const config = path.join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: ${host}
${auth}`,
  );

  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));

  const stop = async () => {
    if (!dead) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when /v2/ answers (200, or 401 with auth on).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (dead) {
      await stop();
      throw new Error(`docker-registry exited before answering:\n${output}`);
    }
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${host} within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, stop };
}
