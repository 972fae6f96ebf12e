// `pallet serve`'s A2A agent driven by the Python a2a-sdk client (test/interop/a2a_client.py),
// on the real dev server, a real worker, a real registry holding the workflows and a real agent
// on loopback: a run started, followed and read as artifacts; a wait step answered over A2A; a
// cancel; a task started on one server instance read and followed on another after the first
// is gone; and the token check.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { stateQuery } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import type { Services } from '../../src/services';
import { loadServeConfig } from '../../src/serve/config';
import { servedRunId, TemporalWorkflowRuns } from '../../src/serve/runs';
import { startServeServer, type ServeServer } from '../../src/serve/server';
import { gate, SkillError, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { exited } from '../helpers/processes';
import { INSTALL_INTEROP, INTEROP_VENV } from '../helpers/interop';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { requireTool } from '../helpers/tools';
import { startServeStack, type ServeStack } from '../helpers/serve';
import { uniqueId } from '../helpers/worker';

const TOKEN = 'serve-test-token';
const REQUIREMENTS = 'Build a CLI that reads a CSV of expenses and prints totals by category';
const PYTHON = path.join(INTEROP_VENV, 'bin', 'python');
const CLIENT = path.join(ROOT, 'test', 'interop', 'a2a_client.py');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs the Python client; its one JSON object (an {error} when the SDK raised). */
function a2a(command: string, url: string, args: string[] = [], token: string | undefined = TOKEN): Promise<Json> {
  const argv = [CLIENT, command, url, ...args, ...(token ? ['--token', token] : [])];
  return new Promise((resolve, reject) =>
    execFile(PYTHON, argv, { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Json);
      } catch {
        reject(new Error(`a2a_client.py ${command} printed no JSON (${err?.message ?? 'exit 0'}):\n${stdout}\n${stderr}`));
      }
    }),
  );
}

/** The text of a status message's text parts. */
const statusText = (task: Json): string => ((task.status?.message?.parts ?? []) as Json[]).map((p) => p.text ?? '').join('\n');

describe('pallet serve over A2A, driven by the Python a2a-sdk client (real server, worker, registry)', function () {
  this.timeout(300_000);
  let stack: ServeStack;
  let agent: TestAgent;
  let services: Services;
  let server: ServeServer;
  const planGate = gate();

  before(async () => {
    requireTool(PYTHON, "the interop fixtures' Python venv (a2a-sdk)", INSTALL_INTEROP);
    ({ agent, services, server } = stack = await startServeStack(
      'serve-a2a',
      {
        // A requirement saying GATED holds its plan until the test opens the gate.
        create_plan: async (p) => {
          if (String(p.requirements).includes('GATED')) await planGate.promise;
          return { steps: ['parse the CSV', 'sum by category'], requirements: p.requirements };
        },
        generate_code: (p) => {
          if (JSON.stringify(p.plan).includes('UNBUILDABLE')) throw new SkillError('cannot build that plan');
          return { code: `print(${JSON.stringify(JSON.stringify(p.plan ?? null).length)})`, language: 'python' };
        },
        review_code: (p) => ({ approved: true, lines: String(p.code).split('\n').length }),
      },
      TOKEN,
    ));
  });

  after(async () => {
    planGate.open();
    await stack?.stop();
  });

  it('publishes a card with one skill per stored workflow and the schemes to authenticate with', async () => {
    const { card, error } = await a2a('card', server.url, [], undefined);
    assert.equal(error, undefined);
    const skills = (card.skills as Json[]).map((s) => [s.id, s.name, s.tags]);
    assert.deepEqual(skills, [
      ['approval-gate-v1', 'Approved Code Generation', ['code-generation', 'approval']],
      ['code-generation-v1', 'Code Generation Pipeline', ['code-generation', 'sequential', 'default']],
    ]);
    assert.deepEqual((card.skills as Json[])[0].inputModes, ['application/json', 'text/plain']);
    assert.equal(card.securitySchemes.bearer.httpAuthSecurityScheme.scheme, 'Bearer');
    assert.equal(card.securitySchemes.apiKey.apiKeySecurityScheme.name, 'X-API-Key');
  });

  it('refuses requests without a valid token with 401, saying how to send one', async () => {
    const missing = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"x"}}',
    });
    assert.equal(missing.status, 401);
    assert.match(((await missing.json()) as Json).error, /needs a token: send it as "Authorization: Bearer <token>" or "X-API-Key: <token>"/);
    const wrong = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'nope' }, body: '{}' });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as Json).error, /not one of PALLET_SERVE_TOKENS/);
    const viaPython = await a2a('get', server.url, ['--task', 'code-generation-v1-a2a-0'], 'wrong-token');
    assert.match(viaPython.error, /401/);
  });

  it('starts code-generation-v1 from a message, follows its task to completion, and gives the run’s result as the artifact', async () => {
    const messageId = `m-${uniqueId('codegen')}`;
    const out = await a2a('send', server.url, ['--skill', 'code-generation-v1', '--text', REQUIREMENTS, '--message-id', messageId]);
    assert.equal(out.error, undefined, out.error);
    const task = out.task as Json;
    assert.match(task.id, /^code-generation-v1-a2a-[0-9a-f]{20}$/);
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED');
    const states = (out.events as Json[]).map((e) => e.task?.status?.state ?? e.statusUpdate?.status?.state).filter(Boolean);
    assert.ok(states.includes('TASK_STATE_WORKING'), `streamed states: ${states.join(', ')}`);
    assert.equal(states.at(-1), 'TASK_STATE_COMPLETED');

    // The artifact is exactly the run's result, as Temporal has it.
    const result = (await (await temporalEnv()).client.workflow.getHandle(task.id).result()) as RunResult;
    assert.deepEqual(task.artifacts.length, 1);
    assert.deepEqual(task.artifacts[0].parts[0].data, result);
    assert.equal(result.initial_input.requirements, REQUIREMENTS);
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'test']);

    // The same message again is the same task: no second run.
    const plans = agent.callsTo('create_plan').length;
    const again = await a2a('send', server.url, ['--skill', 'code-generation-v1', '--text', REQUIREMENTS, '--message-id', messageId]);
    assert.equal(again.task.id, task.id);
    assert.equal(again.task.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(agent.callsTo('create_plan').length, plans);
  });

  it('shows approval-gate-v1’s wait step as input-required and takes the answer over A2A', async () => {
    const out = await a2a('send', server.url, ['--skill', 'approval-gate-v1', '--data', JSON.stringify({ requirements: REQUIREMENTS })]);
    assert.equal(out.error, undefined, out.error);
    const task = out.task as Json;
    assert.equal(task.status.state, 'TASK_STATE_INPUT_REQUIRED');
    assert.match(statusText(task), /step "plan_approval" waits for its event "plan_approval".*"outcome": "approved" \| "rejected"/);

    // A message that is no answer changes nothing, and says what is expected.
    const wrong = await a2a('answer', server.url, ['--task', task.id, '--text', 'looks fine']);
    assert.match(JSON.stringify(wrong.events), /waits for an answer/);
    assert.equal(wrong.task.status.state, 'TASK_STATE_INPUT_REQUIRED');

    const answered = await a2a('answer', server.url, [
      '--task',
      task.id,
      '--data',
      JSON.stringify({ outcome: 'approved', data: { note: 'ship it' }, by: 'ada' }),
    ]);
    assert.equal(answered.error, undefined, answered.error);
    assert.equal(answered.task.status.state, 'TASK_STATE_COMPLETED');
    const result = answered.task.artifacts[0].parts[0].data as RunResult;
    assert.deepEqual(result.step_outputs.plan_approval.outputs, { outcome: 'approved', data: { note: 'ship it' }, by: 'ada' });
    assert.ok(result.step_outputs.review, 'the approved branch ran to its review');
  });

  it('cancels a run with CancelTask', async () => {
    const out = await a2a('send', server.url, ['--skill', 'approval-gate-v1', '--text', REQUIREMENTS]);
    assert.equal(out.task.status.state, 'TASK_STATE_INPUT_REQUIRED');
    const cancelled = await a2a('cancel', server.url, ['--task', out.task.id]);
    assert.equal(cancelled.error, undefined, cancelled.error);
    assert.equal(cancelled.task.status.state, 'TASK_STATE_CANCELED');
    const description = await (await temporalEnv()).client.workflow.getHandle(out.task.id).describe();
    assert.equal(description.status.name, 'CANCELLED');
    const got = await a2a('get', server.url, ['--task', out.task.id]);
    assert.equal(got.task.status.state, 'TASK_STATE_CANCELED');
  });

  it('answers GetTask and SubscribeToTask on a second instance for a task started on the first, once the first is gone', async () => {
    const first = await startServeServer({
      services,
      config: loadServeConfig({ PALLET_SERVE_TOKENS: TOKEN }, { host: '127.0.0.1', port: 0 }),
      log: () => undefined,
    });
    const messageId = `m-${uniqueId('gated')}`;
    const sending = a2a('send', first.url, ['--skill', 'code-generation-v1', '--text', `GATED ${REQUIREMENTS}`, '--message-id', messageId]);
    // The task id is the workflow id the message gives; the run is under way (its plan step called) before the first instance goes.
    const env = await temporalEnv();
    const taskId = servedRunId('code-generation-v1', `a2a:${messageId}`);
    const planCalled = () => agent.calls.some((c) => c.skill === 'create_plan' && String(c.params.requirements).startsWith('GATED'));
    for (let i = 0; i < 600 && !planCalled(); i++) await new Promise((r) => setTimeout(r, 200));
    assert.ok(planCalled(), 'the gated run called its plan step');
    await first.close();
    const cut = await sending;
    assert.ok(cut.error, 'the first instance’s stream ended with it');

    // The second instance: its runs tell the test when a subscriber follows the run, so the gate opens only then.
    const following = gate();
    const runs = new TemporalWorkflowRuns(services, { workflows: [], catalogTtlMs: 30_000 });
    const follow = runs.follow.bind(runs);
    runs.follow = (id, onChange, signal) => {
      following.open();
      return follow(id, onChange, signal);
    };
    const second = await startServeServer({
      services,
      runs,
      config: loadServeConfig({ PALLET_SERVE_TOKENS: TOKEN }, { host: '127.0.0.1', port: 0 }),
      log: () => undefined,
    });
    try {
      const got = await a2a('get', second.url, ['--task', taskId]);
      assert.equal(got.task.status.state, 'TASK_STATE_WORKING');
      assert.match(statusText(got.task), /running: plan/);
      const subscribing = a2a('subscribe', second.url, ['--task', taskId]);
      await following.promise;
      planGate.open();
      const followed = await subscribing;
      assert.equal(followed.error, undefined, followed.error);
      assert.equal(followed.task.status.state, 'TASK_STATE_COMPLETED');
      const streamed = (followed.events as Json[]).map((e) => Object.keys(e)[0]);
      assert.equal(streamed[0], 'task');
      assert.ok(streamed.includes('artifactUpdate'), `streamed: ${streamed.join(', ')}`);
      const state = await env.client.workflow.getHandle(taskId).query(stateQuery);
      assert.deepEqual(followed.task.artifacts[0].parts[0].data.step_outputs, state?.step_outputs);
    } finally {
      await second.close();
    }
  });

  it('shows a failed run as a failed task with the failure message', async () => {
    const out = await a2a('send', server.url, ['--skill', 'code-generation-v1', '--text', `UNBUILDABLE ${REQUIREMENTS}`]);
    assert.equal(out.error, undefined, out.error);
    assert.equal(out.task.status.state, 'TASK_STATE_FAILED');
    assert.match(statusText(out.task), /build/);
    assert.match(statusText(out.task), /cannot build that plan/);
    assert.deepEqual(out.task.artifacts ?? [], []);
  });

  it('`pallet serve` (the CLI process) serves the card and checks tokens, and stops on SIGTERM', async () => {
    const env = await temporalEnv();
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', `require('./src/cli').main(['node', 'pallet', 'serve', '--port', '0'])`],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
          TEMPORAL_ADDRESS: env.address,
          PALLET_REGISTRY: stack.registry.host,
          PALLET_WORKFLOWS_DIR: '',
          PALLET_SERVE_TOKENS: TOKEN,
          PALLET_SERVE_WORKFLOWS: 'code-*',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const found = /A2A agent at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (found) resolve(found[1]);
        });
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => reject(new Error(`pallet serve exited (${code}):\n${out}`)));
      });
      assert.match(out, /1 workflow: code-generation-v1/);
      const { card } = await a2a('card', url, [], undefined);
      assert.deepEqual(
        (card.skills as Json[]).map((s) => s.id),
        ['code-generation-v1'],
      );
      assert.equal((await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
      child.kill('SIGTERM');
      await exited(child);
      assert.equal(child.exitCode, 0, out);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('`pallet serve` refuses to listen off loopback without a token', async () => {
    const out = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { env: { PALLET_SERVE_TOKENS: '' } });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /refuses to listen on 0\.0\.0\.0 without authentication: set PALLET_SERVE_TOKENS/);
  });
});
