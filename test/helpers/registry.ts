// A real OCI registry for integration tests: Debian's `docker-registry` (CNCF distribution
// 2.8) on a free loopback port, storing into a fresh temp folder, killed on stop.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net';
import { requireTool } from './tools';

export { freePort };

export const REGISTRY_BIN = process.env.DOCKER_REGISTRY_BIN || '/usr/bin/docker-registry';

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** Its config file, for `docker-registry garbage-collect`. */
  config: string;
  /** Its storage folder (blobs are under docker/registry/v2/blobs/). */
  storage: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Lines of an htpasswd file (bcrypt): turns on Basic auth. */
  htpasswd?: string;
  /** Whether DELETE is allowed (storage.delete.enabled; default true, as the project's registries). */
  deletes?: boolean;
}

export function orasPath(): string {
  return path.resolve(__dirname, '../../.tools/bin/oras');
}

/** Throws, saying how to install it, when the oras CLI is missing. */
export function requireOras(): void {
  requireTool(orasPath(), 'the oras CLI');
}

/** Runs the oras CLI; rejects with its output when it fails. */
export function runOras(args: string[], cwd?: string): Promise<string> {
  requireOras();
  return new Promise((resolve, reject) => {
    execFile(orasPath(), args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`oras ${args.join(' ')} failed: ${stderr || stdout || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Starts a registry; throws, saying how to install it, when docker-registry is missing (tests that need it fail, never skip). */
export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  requireTool(REGISTRY_BIN, 'the OCI registry docker-registry');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const auth = options.htpasswd ? `auth:\n  htpasswd:\n    realm: pallet-test\n    path: ${path.join(dir, 'htpasswd')}\n` : '';
  if (options.htpasswd) await writeFile(path.join(dir, 'htpasswd'), `${options.htpasswd.trim()}\n`);
  const config = path.join(dir, 'config.yml');
  const storage = path.join(dir, 'data');
  await writeFile(
    config,
    `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: ${options.deletes ?? true}
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
  return { host, config, storage, stop };
}
