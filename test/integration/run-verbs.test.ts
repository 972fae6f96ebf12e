// The run lifecycle from the `pallet` command, against the real dev server: `status` and
// `result` of finished runs with NO worker running (from the server's history), `runs`
// with a status filter, `cancel` and `terminate` of a run held at an agent, Ctrl-C during
// `pallet run`, and `--version`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { gate, SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli, type CliResult } from '../helpers/cli';
import { def } from '../helpers/runs';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';
import type { RunResult } from '../../src/dsl/types';

const TWO_STEPS = `
metadata: { id: two-steps-v1, name: Two Steps, version: "1.0.0" }
steps:
  - { id: first, skill: echo, inputs: { word: "{{ workflow.input.word }}" } }
  - { id: second, skill: echo, inputs: { word: "{{ steps.first.outputs.word }}!" } }
`;
const FAILS_SECOND = `
metadata: { id: fails-second-v1, name: Fails Second, version: "1.0.0" }
steps:
  - { id: first, skill: echo, inputs: { word: "{{ workflow.input.word }}" } }
  - { id: second, skill: boom, inputs: {} }
`;
const LONG_IDS = Array.from({ length: 40 }, (_, i) => `s${i}`);
const LONG = `
metadata: { id: long-v1, name: Long, version: "1.0.0" }
steps:
${LONG_IDS.map((id) => `  - { id: ${id}, skill: echo, inputs: { word: ${id} } }`).join('\n')}
`;
const HOLDS = `
metadata: { id: holds-v1, name: Holds, version: "1.0.0" }
steps:
  - { id: wait_here, skill: hold, inputs: {} }
`;

interface StatusJson {
  workflow_id: string;
  run_id: string;
  status: string;
  source: string;
  note?: string;
  definition: { id: string; version: string };
  duration_ms: number;
  finished: string[];
  running: string[];
  steps: { id: string; kind: string; state: string; attempts: number; duration_ms?: number; outputs?: unknown; agent?: string; error?: string }[];
  step_outputs: Record<string, { outputs: unknown }>;
  failure?: { message: string; type?: string | null; step?: string | null };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('pallet status, result, runs, cancel, terminate (run lifecycle)', function () {
  this.timeout(180_000);
  let agent: TestAgent;
  const held = gate<{ released: boolean }>();
  let cliEnv: Record<string, string>;
  let completedId: string;
  let failedId: string;
  let completedResult: RunResult;
  let longId: string;
  let longFirstRunId: string;

  before(async () => {
    agent = await startTestAgent('verbs-agent', {
      echo: (p) => ({ word: p.word }),
      boom: () => {
        throw new SkillError('boom went the agent');
      },
      hold: () => held.promise,
    });
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    cliEnv = { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue, TEMPORAL_UI_URL: 'http://ui.example:8233' };
    completedId = uniqueId('verbs-done');
    longId = uniqueId('verbs-long');
    failedId = uniqueId('verbs-failed');
    // Both runs finish while a worker serves the queue; then the worker goes away for good.
    await worker.runUntil(async () => {
      const done = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: completedId,
        args: [{ definition: def(TWO_STEPS), input: { word: 'hello' } }],
      });
      const failed = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: failedId,
        args: [{ definition: def(FAILS_SECOND), input: { word: 'hi' } }],
      });
      // 40 steps with a low history limit: the run continues as new several times.
      const long = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: longId,
        args: [{ definition: def(LONG), input: {}, historyLimit: 40 }],
      });
      longFirstRunId = long.firstExecutionRunId;
      completedResult = (await done.result()) as RunResult;
      await failed.result().catch(() => undefined);
      await long.result();
    });
  });

  after(async () => {
    held.open({ released: true });
    await agent.close();
  });

  describe('with no worker running', () => {
    it('status of a completed run: every step with state, attempts, duration and outputs, from the history, at once', async () => {
      const t0 = Date.now();
      const res = await runCli(['status', completedId], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      assert.ok(Date.now() - t0 < 20_000, 'no wait for a worker');
      assert.match(res.stdout, new RegExp(`^${completedId} \\(run [\\w-]+\\): COMPLETED$`, 'm'));
      assert.match(res.stdout, /definition: two-steps-v1 1\.0\.0/);
      assert.match(res.stdout, /started \S+, took \d+\.\d+ s/);
      assert.match(res.stdout, /finished: first, second/);
      assert.match(res.stdout, /^ {4}first +completed +1 attempt +\d+\.\d+ s +by http:\/\/127\.0\.0\.1:\d+$/m);
      assert.match(res.stdout, /^ {2}second: \{"word":"hello!"\}$/m);
      assert.match(res.stdout, /final output: \{"word":"hello!"\}/);
      assert.match(res.stdout, /http:\/\/ui\.example:8233\/namespaces\/default\/workflows\//);

      const json = await runCli(['status', completedId, '--json'], { env: cliEnv });
      assert.equal(json.code, 0, json.stderr);
      const s = JSON.parse(json.stdout) as StatusJson;
      assert.equal(s.status, 'COMPLETED');
      assert.equal(s.source, 'history');
      assert.equal(s.definition.id, 'two-steps-v1');
      assert.deepEqual(s.finished, ['first', 'second']);
      assert.deepEqual(s.running, []);
      assert.deepEqual(s.step_outputs, completedResult.step_outputs);
      const agentSteps = s.steps.filter((x) => x.kind === 'agent');
      assert.deepEqual(
        agentSteps.map((x) => [x.id, x.state, x.attempts, x.agent]),
        [
          ['first', 'completed', 1, agent.url],
          ['second', 'completed', 1, agent.url],
        ],
      );
      assert.deepEqual(agentSteps[0].outputs, { word: 'hello' });
      assert.ok(agentSteps.every((x) => typeof x.duration_ms === 'number' && x.duration_ms >= 0));
      assert.ok(s.duration_ms >= 0);
    });

    it('status of a run that continued as new: its whole duration and generations; counts and the last ids, not walls of ids', async () => {
      const env = await temporalEnv();
      const first = await env.client.workflow.getHandle(longId, longFirstRunId).describe();
      const s = JSON.parse((await runCli(['status', longId, '--json'], { env: cliEnv })).stdout) as StatusJson & {
        run_start_time: string;
        run_duration_ms: number;
        generation_count: number;
        generations: unknown[];
      };
      assert.equal(s.status, 'COMPLETED');
      assert.ok(s.generations.length >= 2, `continued as new (${s.generations.length} earlier generations)`);
      assert.equal(s.generation_count, s.generations.length + 1);
      // The first generation's start (its workflow time, or the server's start event for runs recorded before started_at).
      assert.ok(Math.abs(Date.parse(s.run_start_time) - first.startTime.getTime()) < 1000, `the first generation started the run (${s.run_start_time})`);
      assert.ok(s.run_duration_ms > s.duration_ms, 'the whole run took longer than its last generation');
      assert.deepEqual(s.finished, LONG_IDS, '--json keeps every id');

      const res = await runCli(['status', longId], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^ {2}started ${s.run_start_time}, took .+ in ${s.generation_count} generations$`, 'm'));
      assert.match(res.stdout, /^ {2}finished: 40 steps \(…, s37, s38, s39\)$/m);
      assert.match(res.stdout, /^ {4}and 20 more \(`--json` has them all\)$/m);
      assert.ok(
        res.stdout.split('\n').every((line) => line.length < 300),
        'no line is a wall of ids',
      );
    });

    it('status of a failed run: the failed step with its error, the run failure, the finished steps', async () => {
      const res = await runCli(['status', failedId], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /: FAILED$/m);
      assert.match(res.stdout, /finished: first$/m);
      assert.match(res.stdout, /^ {4}second +failed +1 attempt .*boom went the agent/m);
      assert.match(res.stdout, /^ {2}error: .*boom went the agent/m);

      const s = JSON.parse((await runCli(['status', failedId, '--json'], { env: cliEnv })).stdout) as StatusJson;
      assert.equal(s.status, 'FAILED');
      assert.equal(s.failure?.type, 'StepFailed');
      assert.equal(s.failure?.step, 'second');
      assert.match(s.failure?.message ?? '', /boom went the agent/);
      assert.deepEqual(Object.keys(s.step_outputs), ['first']);
      assert.equal(s.steps.find((x) => x.id === 'second')?.state, 'failed');
    });

    it('result of a completed run prints and saves it as `run` does; --json prints the raw result', async () => {
      const cwd = await mkdtemp(path.join(os.tmpdir(), 'pallet-result-'));
      const res = await runCli(['result', completedId], { env: cliEnv, cwd });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^completed Two Steps \(two-steps-v1 1\.0\.0\): 2 steps$/m);
      assert.match(res.stdout, /final output: \{"word":"hello!"\}/);
      assert.match(res.stdout, new RegExp(`wrote app/${completedId}/: result\\.json, metadata\\.json`));
      assert.deepEqual(JSON.parse(await readFile(path.join(cwd, 'app', 'latest', 'result.json'), 'utf8')), completedResult);
      const meta = JSON.parse(await readFile(path.join(cwd, 'app', completedId, 'metadata.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(meta.temporal_workflow_id, completedId);
      const json = await runCli(['result', completedId, '--json'], { env: cliEnv });
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), completedResult);
    });

    it('result of a failed run exits 1 with the step and the agent message', async () => {
      const res = await runCli(['result', failedId], { env: cliEnv });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /run \S+ failed at step "second": .*boom went the agent/);
      assert.match(res.stderr, new RegExp(`pallet retry ${failedId}`));
      const json = await runCli(['watch', failedId, '--json'], { env: cliEnv });
      assert.equal(json.code, 1);
      const failure = JSON.parse(json.stdout) as { workflow_id: string; status: string; error: { step: string; type: string } };
      assert.equal(failure.workflow_id, failedId);
      assert.equal(failure.status, 'FAILED');
      assert.deepEqual([failure.error.step, failure.error.type], ['second', 'StepFailed']);
    });

    it('retry of a failed run with no worker plans it from the history and starts it at once', async () => {
      const t0 = Date.now();
      const res = await runCli(['retry', failedId, '--no-wait'], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      assert.ok(Date.now() - t0 < 20_000, 'no wait for a worker');
      assert.match(res.stdout, /offered for reuse: first/);
      const env = await temporalEnv();
      const retried = await env.client.workflow.getHandle(failedId).describe();
      assert.equal(retried.status.name, 'RUNNING', 'the retry waits for a worker');
      await env.client.workflow.getHandle(failedId).terminate('test over');
    });

    it('status and result of an unknown run say so', async () => {
      const res = await runCli(['status', 'no-such-run-anywhere'], { env: cliEnv });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /no run no-such-run-anywhere on the server/);
    });

    it('runs lists Pallet runs newest first, filtered by status, with their definition', async () => {
      const listed = (status: string) =>
        until(`${status} runs listed`, async () => {
          const res = await runCli(['runs', '--status', status, '--limit', '1000', '--json'], { env: cliEnv });
          assert.equal(res.code, 0, res.stderr);
          const rows = JSON.parse(res.stdout) as { workflow_id: string; status: string; definition_id: string; start_time: string; duration_ms: number }[];
          return rows.some((r) => r.workflow_id === completedId || r.workflow_id === failedId) ? rows : undefined;
        });
      const failed = await listed('failed');
      assert.ok(failed.every((r) => r.status === 'FAILED'));
      const row = failed.find((r) => r.workflow_id === failedId);
      assert.equal(row?.definition_id, 'fails-second-v1');
      assert.ok(!failed.some((r) => r.workflow_id === completedId));
      const done = await listed('completed');
      assert.ok(done.some((r) => r.workflow_id === completedId) && !done.some((r) => r.workflow_id === failedId));
      const starts = done.map((r) => Date.parse(r.start_time));
      assert.deepEqual(
        starts,
        [...starts].sort((a, b) => b - a),
        'newest first',
      );

      const both = await runCli(['runs', '--status', 'completed,failed', '--limit', '2'], { env: cliEnv });
      assert.equal(both.code, 0, both.stderr);
      const lines = both.stdout.trim().split('\n');
      assert.match(lines[0], /^ID +STATUS +DEFINITION +STARTED +DURATION$/);
      assert.equal(lines.length, 3);
      const bad = await runCli(['runs', '--status', 'sleeping'], { env: cliEnv });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /unknown status "sleeping"/);
    });

    it('status of a running run no worker serves falls back to the history; terminate stops it without a worker', async () => {
      const env = await temporalEnv();
      const id = uniqueId('verbs-orphan');
      await env.client.workflow.start(palletWorkflow, {
        taskQueue: uniqueId('nobody-listens'),
        workflowId: id,
        args: [{ definition: def(TWO_STEPS), input: { word: 'x' } }],
      });
      const t0 = Date.now();
      const res = await runCli(['status', id, '--json'], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      assert.ok(Date.now() - t0 < 20_000, 'the query gives up after a few seconds');
      const s = JSON.parse(res.stdout) as StatusJson;
      assert.equal(s.status, 'RUNNING');
      assert.equal(s.source, 'history');
      assert.match(s.note ?? '', /no worker answered the state query/);

      const term = await runCli(['terminate', id, '--reason', 'nobody serves it', '--json'], { env: cliEnv });
      assert.equal(term.code, 0, term.stderr);
      assert.deepEqual(JSON.parse(term.stdout), { workflow_id: id, run_id: s.run_id, status: 'TERMINATED', reason: 'nobody serves it' });
      assert.equal((await env.client.workflow.getHandle(id).describe()).status.name, 'TERMINATED');
      const after = await runCli(['status', id], { env: cliEnv });
      assert.match(after.stdout, /: TERMINATED$/m);
      assert.match(after.stdout, /error: the run was terminated: nobody serves it/);
      const again = await runCli(['terminate', id], { env: cliEnv });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is terminated; only a running run can be terminated/);
      const result = await runCli(['result', id], { env: cliEnv });
      assert.equal(result.code, 1);
    });

    it('--version prints the version of package.json; --help lists every verb', async () => {
      const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const res = await runCli(['--', '--version']); // `--`: past node's own --version
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout.trim(), pkg.version);
      const help = await runCli(['--', '--help']);
      assert.equal(help.code, 0, help.stderr);
      for (const verb of ['run', 'status', 'result', 'runs', 'cancel', 'terminate', 'retry', 'replay'])
        assert.match(help.stdout, new RegExp(`^ {2}${verb}\\b`, 'm'), verb);
    });
  });

  describe('with a worker and a run held at an agent', () => {
    let worker: Worker;
    let running: Promise<void>;
    let dir: string;

    before(async () => {
      const created = await createTestWorker({ agentUrls: [agent.url], taskQueue: cliEnv.PALLET_TASK_QUEUE });
      worker = created.worker;
      running = worker.run();
      dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-verbs-'));
    });

    after(async () => {
      held.open({ released: true });
      worker.shutdown();
      await running;
    });

    async function startHeld(prefix: string) {
      const env = await temporalEnv();
      const before = agent.callsTo('hold').length;
      const id = uniqueId(prefix);
      await env.client.workflow.start(palletWorkflow, { taskQueue: cliEnv.PALLET_TASK_QUEUE, workflowId: id, args: [{ definition: def(HOLDS), input: {} }] });
      await until('the agent to be called', async () => (agent.callsTo('hold').length > before ? true : undefined));
      return id;
    }

    it('status of a running run answers from the worker: the step waiting at the agent', async () => {
      const id = await startHeld('verbs-live');
      const s = JSON.parse((await runCli(['status', id, '--json'], { env: cliEnv })).stdout) as StatusJson;
      assert.equal(s.status, 'RUNNING');
      assert.equal(s.source, 'query');
      assert.deepEqual(s.running, ['wait_here']);
      assert.deepEqual(
        s.steps.map((x) => [x.id, x.state, x.attempts]),
        [['wait_here', 'running', 1]],
      );
      const env = await temporalEnv();
      await env.client.workflow.getHandle(id).terminate('test over');
    });

    it('cancel stops a run waiting at an agent; status shows the cancellation', async () => {
      const id = await startHeld('verbs-cancel');
      const res = await runCli(['cancel', id, '--json'], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      const outcome = JSON.parse(res.stdout) as { workflow_id: string; status: string; cancel_requested: boolean };
      assert.deepEqual([outcome.workflow_id, outcome.status, outcome.cancel_requested], [id, 'CANCELLED', true]);
      const s = JSON.parse((await runCli(['status', id, '--json'], { env: cliEnv })).stdout) as StatusJson & { cancel_requested_at?: string };
      assert.notEqual(s.status, 'RUNNING');
      assert.ok(s.cancel_requested_at);
      assert.equal(s.steps.find((x) => x.id === 'wait_here')?.state, 'cancelled');
      const text = await runCli(['status', id], { env: cliEnv });
      assert.match(text.stdout, /cancellation requested at /);
      assert.match(text.stdout, /error: .*cancel/i);
      const again = await runCli(['cancel', id], { env: cliEnv });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /only a running run can be cancelled/);
    });

    it('terminate stops a run waiting at an agent at once, with its reason', async () => {
      const id = await startHeld('verbs-terminate');
      const res = await runCli(['terminate', id, '--reason', 'changed my mind'], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      const env = await temporalEnv();
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      const last = history.events?.[history.events.length - 1];
      assert.equal(last?.workflowExecutionTerminatedEventAttributes?.reason, 'changed my mind');
      const result = await runCli(['result', id], { env: cliEnv });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`run ${id} was terminated`));
    });

    it('Ctrl-C during `pallet run` leaves the run going and says how to follow or cancel it; exit 130', async () => {
      const file = path.join(dir, 'holds.yaml');
      await writeFile(file, HOLDS);
      const id = uniqueId('verbs-ctrlc');
      const res = await interrupted(['run', '--file', file, '--id', id], cliEnv);
      assert.equal(res.code, 130, res.stderr);
      assert.match(res.stderr, new RegExp(`the run ${id} goes on on the server`));
      assert.match(res.stderr, new RegExp(`pallet result ${id}`));
      assert.match(res.stderr, new RegExp(`pallet status ${id}`));
      assert.match(res.stderr, new RegExp(`pallet cancel ${id}`));
      const env = await temporalEnv();
      assert.equal((await env.client.workflow.getHandle(id).describe()).status.name, 'RUNNING');
      await env.client.workflow.getHandle(id).terminate('test over');
    });
  });
});

/** Runs the CLI as runCli does, and sends it SIGINT once it has said it started the run. */
function interrupted(args: string[], env: Record<string, string>): Promise<CliResult> {
  const entry = `require(${JSON.stringify(path.join(ROOT, 'src', 'cli'))}).main(['node', 'pallet', ...process.argv.slice(1)]).catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); })`;
  const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'), PALLET_APP_WRITER: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // Give the run a moment to reach the agent, then interrupt.
    if (!sent && stdout.includes('started ')) {
      sent = true;
      setTimeout(() => child.kill('SIGINT'), 1_000);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
