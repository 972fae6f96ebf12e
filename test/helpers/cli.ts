// Runs the real `pallet` CLI (from src/, through ts-node) as a separate process.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './temporal';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const entry = `require(${JSON.stringify(path.join(ROOT, 'src', 'cli'))}).main(['node', 'pallet', ...process.argv.slice(1)]).catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); })`;
  const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', entry, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
