// The interoperability fixtures (test/interop/): an A2A agent on the Python a2a-sdk and an MCP
// server on the Python mcp package, each a separate process on a free loopback port, with the
// requests it received read back from its JSON-lines log. A missing venv fails the test with
// the command that installs it, never skips it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net';
import { exited } from './processes';
import { ROOT } from './temporal';
import { requireTool } from './tools';

export const INTEROP_VENV = path.join(ROOT, '.tools', 'interop-venv');
export const INSTALL_INTEROP = 'bash scripts/install-tools.sh interop';
const FIXTURES = path.join(ROOT, 'test', 'interop');

/** One line of a fixture's log: a JSON-RPC request received, or (kind "task") what the A2A executor did. */
export interface FixtureRecord {
  kind: 'send' | 'get' | 'cancel' | 'subscribe' | 'other' | 'unparsable' | 'task';
  method?: string;
  taskId?: string | null;
  messageId?: string | null;
  contextId?: string | null;
  skill?: string | null;
  a2aVersion?: string;
  /** For kind "task": execute, input-required, completed, canceled, interrupted. */
  event?: string;
  /** For an MCP tools/call: the tool's name. */
  tool?: string;
  time: number;
}

export interface FixtureServer {
  /** What a worker is given: the agent's base URL, or the MCP endpoint (…/mcp). */
  url: string;
  records(): FixtureRecord[];
  stop(): Promise<void>;
}

export interface A2aFixture extends FixtureServer {
  /** The task the agent started for the message with this id (a step's call id), once it has. */
  taskOf(messageId: string): string | undefined;
  /** Requests of one kind about one task (a send on a task: a follow-up message). */
  requestsFor(taskId: string, kind: FixtureRecord['kind']): FixtureRecord[];
  /** The executor's events for one task, in order. */
  events(taskId: string): string[];
}

export interface McpFixture extends FixtureServer {
  toolCalls(tool: string): FixtureRecord[];
}

function readRecords(file: string): FixtureRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as FixtureRecord);
}

async function startFixture(script: string, readyPath: string): Promise<FixtureServer & { port: number }> {
  const python = path.join(INTEROP_VENV, 'bin', 'python');
  requireTool(python, "the interop fixtures' Python venv (a2a-sdk, mcp)", INSTALL_INTEROP);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-interop-'));
  const logFile = path.join(dir, 'requests.jsonl');
  const port = await freePort();
  const child = spawn(python, [path.join(FIXTURES, script), '--port', String(port), '--log', logFile], {
    cwd: FIXTURES,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
    if (process.env.DEBUG_INTEROP) process.stderr.write(d);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const stop = async () => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await untilAnswers(`http://127.0.0.1:${port}${readyPath}`, child, () => output);
  } catch (err) {
    await stop();
    throw new Error(`${script} did not start (${(err as Error).message}); if a package is missing: \`${INSTALL_INTEROP}\`\n${output}`);
  }
  return { port, url: `http://127.0.0.1:${port}`, records: () => readRecords(logFile), stop };
}

/** Resolves once the fixture answers HTTP at all (any status), rejects if it exits first. */
async function untilAnswers(url: string, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`no answer at ${url} within ${timeoutMs / 1000} s: ${output().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited(child);
  clearTimeout(timer);
}

/** The Python a2a-sdk agent (skills long_task, ask_name, slow_cancellable). */
export async function startA2aFixture(): Promise<A2aFixture> {
  const server = await startFixture('a2a_agent.py', '/.well-known/agent-card.json');
  const records = server.records;
  return {
    url: server.url,
    records,
    stop: server.stop,
    taskOf: (messageId) => records().find((r) => r.kind === 'task' && r.event === 'execute' && r.messageId === messageId)?.taskId ?? undefined,
    requestsFor: (taskId, kind) => records().filter((r) => r.kind === kind && r.taskId === taskId),
    events: (taskId) =>
      records()
        .filter((r) => r.kind === 'task' && r.taskId === taskId)
        .map((r) => r.event ?? ''),
  };
}

/** The Python mcp server (tools add, fail), Streamable HTTP at /mcp. */
export async function startMcpFixture(): Promise<McpFixture> {
  const server = await startFixture('mcp_server.py', '/mcp');
  return {
    url: `${server.url}/mcp`,
    records: server.records,
    stop: server.stop,
    toolCalls: (tool) => server.records().filter((r) => r.method === 'tools/call' && r.tool === tool),
  };
}
