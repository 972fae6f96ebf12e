// The `pallet` command as a user runs it, against a real dev server and a real worker:
// lint, run (JSON and readable), a failed run, status, retry from the point of failure,
// and replay of the recorded history.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { PALLET_TEST_WORKFLOWS } from '../helpers/pallet';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import type { Worker } from '@temporalio/worker';
import type { RunResult } from '../../src/dsl/types';

const CODEGEN = path.resolve(__dirname, '..', '..', 'pallet-workflows', 'code-generation.yaml');
const PALLET_FIXTURES = PALLET_TEST_WORKFLOWS;
/** The code-generation example's app writer (TypeScript: the CLI runs under ts-node here). */
const APP_WRITER = path.resolve(__dirname, '..', '..', 'examples', 'code-generation', 'app-files.ts');

describe('pallet CLI', function () {
  this.timeout(180_000);
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  let cliEnv: Record<string, string>;
  let dir: string;
  let reviewBroken = false;

  before(async () => {
    agent = await startTestAgent('cli-agent', {
      create_plan: (p) => ({ title: `Plan: ${String(p.requirements)}`, steps: [{ name: 'parse' }, { name: 'report' }] }),
      generate_code: (p) => ({ code: `# ${(p.plan as { title: string }).title}\nprint("hi")`, language: 'python' }),
      review_code: (p) => {
        if (reviewBroken) throw new SkillError('review model overloaded');
        return { quality_score: 8, approved: true, lines: String(p.code).split('\n').length };
      },
    });
    const env = await temporalEnv();
    const created = await createTestWorker({ agentUrls: [agent.url] });
    worker = created.worker;
    running = worker.run();
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-cli-'));
    cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      PALLET_TASK_QUEUE: created.taskQueue,
      PALLET_WORKFLOWS_DIR: path.resolve(__dirname, '..', '..', 'pallet-workflows'),
      TEMPORAL_UI_URL: 'http://ui.example:8233',
    };
  });

  after(async () => {
    worker.shutdown();
    await running;
    await agent.close();
  });

  it('lint: exit 0 for valid files; exit 1 with FILE:LINE:COL lines for each problem', async () => {
    const good = await runCli(['lint', path.join(PALLET_FIXTURES, 'valid_simple.yaml'), 'pallet-workflows/code-generation.yaml']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout, '');
    const bad = await runCli([
      'lint',
      path.join(PALLET_FIXTURES, 'invalid_syntax.yaml'),
      path.join(PALLET_FIXTURES, 'missing_required.yaml'),
      'pallet-workflows/smart-router.yaml',
    ]);
    assert.equal(bad.code, 1);
    const lines = bad.stdout.trim().split('\n');
    assert.equal(lines.length, 2, bad.stdout);
    assert.match(lines[0], /invalid_syntax\.yaml:\d+:\d+: YAML syntax error/);
    assert.match(lines[1], /missing_required\.yaml:2:3: metadata\.name is required/);
  });

  it('run --file --json prints only the result; the Web UI address goes to stderr', async () => {
    const id = uniqueId('cli-json');
    const res = await runCli(['run', '--file', CODEGEN, '--id', id, '--json', 'a', 'todo', 'app'], { env: cliEnv });
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as { workflow_id: string; initial_input: unknown; final_output: { result: { approved: boolean } } };
    assert.equal(result.workflow_id, 'code-generation-v1');
    assert.deepEqual(result.initial_input, { requirements: 'a todo app' });
    assert.equal(result.final_output.result.approved, true);
    assert.match(res.stderr, new RegExp(`http://ui\\.example:8233/namespaces/default/workflows/${id}/`));
  });

  it('run --workflow ID (from a folder) writes result.json and metadata.json to app/<workflow id>/, links app/latest to it and prints a summary; no other files without an app writer', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'pallet-cli-plain-'));
    const res = await runCli(['run', '--workflow', 'code-generation-v1', 'an expense report'], { env: { ...cliEnv, PALLET_APP_WRITER: '' }, cwd: runDir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /completed Code Generation Pipeline \(code-generation-v1 1\.0\.0\): 3 steps/);
    const wrote = /^ {2}wrote app\/(code-generation-v1-[^/]+)\/: result\.json, metadata\.json$/m.exec(res.stdout);
    assert.ok(wrote, res.stdout);
    const id = wrote[1];
    assert.deepEqual((await readdir(path.join(runDir, 'app'))).sort(), [id, 'latest']);
    assert.equal(await readlink(path.join(runDir, 'app', 'latest')), id);
    assert.deepEqual((await readdir(path.join(runDir, 'app', id))).sort(), ['metadata.json', 'result.json']);
    const result = JSON.parse(await readFile(path.join(runDir, 'app', 'latest', 'result.json'), 'utf8')) as RunResult;
    assert.equal(result.workflow_id, 'code-generation-v1');
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'test']);
    assert.deepEqual(result.final_output, result.step_outputs.test.outputs);
    const meta = JSON.parse(await readFile(path.join(runDir, 'app', id, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(meta.workflow_id, 'code-generation-v1');
    assert.equal(meta.workflow_name, 'Code Generation Pipeline');
    assert.deepEqual(meta.initial_input, { requirements: 'an expense report' });
    assert.match(String(meta.definition_digest), /^sha256:[0-9a-f]{64}$/);
    assert.equal(meta.temporal_workflow_id, id);
  });

  it('runs one after another keep their own folders; app/latest follows the newest; --app-dir and --id name the folder', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'pallet-cli-twice-'));
    const appDir = path.join(runDir, 'results');
    const [first, second] = [uniqueId('cli-first'), uniqueId('cli-second')];
    for (const [id, words] of [
      [first, 'first thing'],
      [second, 'second thing'],
    ]) {
      const res = await runCli(['run', '--workflow', 'code-generation-v1', '--id', id, '--app-dir', appDir, '--app-writer', APP_WRITER, words], {
        env: cliEnv,
        cwd: runDir,
      });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^ {2}wrote results/${id}/: result\\.json, metadata\\.json, plan\\.json, main\\.py, review\\.json$`, 'm'));
    }
    assert.deepEqual((await readdir(appDir)).sort(), [first, second, 'latest'].sort());
    assert.equal(await readlink(path.join(appDir, 'latest')), second);
    assert.match(await readFile(path.join(appDir, first, 'main.py'), 'utf8'), /first thing/);
    assert.match(await readFile(path.join(appDir, 'latest', 'main.py'), 'utf8'), /second thing/);
  });

  it("run --app-writer / PALLET_APP_WRITER: the code-generation example's writer adds Pallet's plan.json, main.py and review.json", async () => {
    for (const how of ['option', 'env'] as const) {
      const runDir = await mkdtemp(path.join(os.tmpdir(), `pallet-cli-writer-${how}-`));
      const args = ['run', '--workflow', 'code-generation-v1', 'an expense report'];
      const res =
        how === 'option'
          ? await runCli([...args, '--app-writer', APP_WRITER], { env: cliEnv, cwd: runDir })
          : await runCli(args, { env: { ...cliEnv, PALLET_APP_WRITER: APP_WRITER }, cwd: runDir });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /wrote app\/code-generation-v1-[^/]+\/: result\.json, metadata\.json, plan\.json, main\.py, review\.json$/m, how);
      const plan = JSON.parse(await readFile(path.join(runDir, 'app', 'latest', 'plan.json'), 'utf8')) as { title: string };
      assert.equal(plan.title, 'Plan: an expense report');
      assert.equal(await readFile(path.join(runDir, 'app', 'latest', 'main.py'), 'utf8'), '# Plan: an expense report\nprint("hi")\n');
      const review = JSON.parse(await readFile(path.join(runDir, 'app', 'latest', 'review.json'), 'utf8')) as { lines: number };
      assert.equal(review.lines, 2);
    }
  });

  it('run with an app writer that cannot be loaded exits 1 before starting a run', async () => {
    const notAWriter = path.join(dir, 'not-a-writer.js');
    await writeFile(notAWriter, 'exports.something = 1;\n');
    const [missing, wrong] = await Promise.all([
      runCli(['run', '--workflow', 'code-generation-v1', '--app-writer', './no-such-writer.js', 'x'], { env: cliEnv, cwd: dir }),
      runCli(['run', '--workflow', 'code-generation-v1', 'x'], { env: { ...cliEnv, PALLET_APP_WRITER: notAWriter }, cwd: dir }),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^cannot load the app writer \.\/no-such-writer\.js: Cannot find module/m);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the app writer .*not-a-writer\.js exports no function writeAppFiles/);
    assert.doesNotMatch(missing.stdout + wrong.stdout, /started/, 'no run was started');
  });

  it('a failed run exits 1 naming the step and the agent message; retry finishes it without repeating finished steps', async () => {
    const id = uniqueId('cli-retry');
    const plansBefore = agent.callsTo('create_plan').length;
    const buildsBefore = agent.callsTo('generate_code').length;
    reviewBroken = true;
    const failed = await runCli(['run', '--file', CODEGEN, '--id', id, 'retry me'], { env: cliEnv, cwd: dir });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed at step "test".*review model overloaded/);
    assert.match(failed.stderr, new RegExp(`pallet retry ${id}`));

    const status = await runCli(['status', id], { env: cliEnv });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /FAILED/);
    assert.match(status.stdout, /finished: plan, build/);
    assert.match(status.stdout, /error: Step "test" .*review model overloaded/);

    reviewBroken = false;
    const retried = await runCli(['retry', id], { env: cliEnv, cwd: dir });
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /offered for reuse: plan, build/);
    assert.match(retried.stdout, /^ {2}reused 2 of 2: plan, build$/m);
    assert.equal(agent.callsTo('create_plan').length - plansBefore, 1, 'plan was not called again');
    assert.equal(agent.callsTo('generate_code').length - buildsBefore, 1, 'build was not called again');

    const env = await temporalEnv();
    const result = (await env.client.workflow.getHandle(id).result()) as { step_outputs: Record<string, unknown> };
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'test']);

    const replay = await runCli(['replay', id], { env: cliEnv });
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /OK/);
    // One line of answer; the bundler's and the worker's logs only with --verbose.
    assert.equal((replay.stdout + replay.stderr).trim().split('\n').length, 1, replay.stdout + replay.stderr);
  });

  it('run --json of a failed run: exit 1, the failure as one snake_case object on stdout, the lines on stderr; no files written', async () => {
    const id = uniqueId('cli-json-failed');
    reviewBroken = true;
    try {
      const cwd = await mkdtemp(path.join(os.tmpdir(), 'pallet-cli-json-'));
      const failedJson = await runCli(['run', '--file', CODEGEN, '--id', id, '--json', 'retry me'], { env: cliEnv, cwd });
      assert.equal(failedJson.code, 1);
      const failure = JSON.parse(failedJson.stdout) as { workflow_id: string; run_id: string; status: string; url: string; error: { message: string } };
      assert.deepEqual(Object.keys(failure), ['workflow_id', 'run_id', 'status', 'error', 'url']);
      assert.equal(failure.workflow_id, id);
      assert.equal(failure.status, 'FAILED');
      assert.match(failure.run_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual({ ...failure.error, message: undefined }, { message: undefined, type: 'StepFailed', step: 'test' });
      assert.match(failure.error.message, /review model overloaded/);
      assert.match(failure.url, new RegExp(`http://ui\\.example:8233/namespaces/default/workflows/${id}/`));
      assert.match(failedJson.stderr, /failed at step "test".*review model overloaded/);
      assert.deepEqual(await readdir(cwd), [], 'no files written');
    } finally {
      reviewBroken = false;
    }
  });

  it('retry refuses a run that completed', async () => {
    const id = uniqueId('cli-done');
    assert.equal((await runCli(['run', '--file', CODEGEN, '--id', id, '--json', 'x'], { env: cliEnv })).code, 0);
    const res = await runCli(['retry', id], { env: cliEnv });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /is completed; only failed/);
  });

  it('run --no-wait returns the workflow id and Web UI address at once', async () => {
    const id = uniqueId('cli-nowait');
    const res = await runCli(['run', '--file', CODEGEN, '--id', id, '--no-wait', 'x'], { env: cliEnv });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`started ${id}\\nhttp://ui\\.example:8233/namespaces/default/workflows/${id}/`));
    const env = await temporalEnv();
    await env.client.workflow.getHandle(id).result();
    // --json: the same in snake_case, as results are.
    const json = await runCli(['run', '--file', CODEGEN, '--id', `${id}-json`, '--no-wait', '--json', 'x'], { env: cliEnv });
    assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ['workflow_id', 'run_id', 'url']);
    await env.client.workflow.getHandle(`${id}-json`).result();
  });

  it('a run no worker picks up says so after a few seconds, naming the task queue', async () => {
    const id = uniqueId('cli-noworker');
    const res = await runCli(['run', '--file', CODEGEN, '--id', id, 'x'], { env: { ...cliEnv, PALLET_TASK_QUEUE: 'nobody-polls-this' }, timeoutMs: 15_000 });
    assert.match(res.stderr, /no worker has picked up this run yet: is one polling task queue "nobody-polls-this"\?/);
    await (await temporalEnv()).client.workflow.getHandle(id).terminate('test over');
  });

  it('bad input gives one clear line and exit 1: invalid --input, invalid file, unknown workflow id', async () => {
    const badJson = await runCli(['run', '--file', CODEGEN, '--input', '{nope'], { env: cliEnv });
    assert.equal(badJson.code, 1);
    assert.match(badJson.stderr, /--input is not valid JSON/);
    const badFile = path.join(dir, 'bad.yaml');
    await writeFile(badFile, 'metadata: { id: x, name: X, version: "1" }\nsteps:\n  - { id: a, skill: s, inputs: { v: "{{ steps.zz.outputs }}" } }\n');
    const invalid = await runCli(['run', '--file', badFile], { env: cliEnv });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /bad\.yaml:3:\d+: step "a": template "\{\{ steps\.zz\.outputs \}\}" refers to step "zz", but there is no such step/);
    const unknown = await runCli(['run', '--workflow', 'no-such-flow-v1'], { env: cliEnv });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no workflow "no-such-flow-v1" in folder .*known: .*code-generation-v1/);
  });
});
