// `pallet retry` against the real dev server: planned from the failed run's history with NO
// worker running; a retry with a changed input reuses only the steps whose resolved inputs
// are unchanged; a retry with a fixed definition file reuses the finished steps it kept.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { def } from '../helpers/runs';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';
import type { RunResult } from '../../src/dsl/types';

const PIPELINE = `
metadata: { id: retry-pipeline-v1, name: Retry Pipeline, version: "1.0.0" }
steps:
  - { id: shout, skill: upper, inputs: { word: "{{ workflow.input.word }}" }, outputs: loud }
  - { id: fixed, skill: upper, inputs: { word: constant }, outputs: loud }
  - { id: finish, skill: flaky, inputs: { word: "{{ steps.shout.outputs.loud.word }}" } }
`;

describe('pallet retry (from the history, with a changed input or definition)', function () {
  this.timeout(180_000);
  let agent: TestAgent;
  let broken = true;
  let cliEnv: Record<string, string>;
  let taskQueue: string;
  let dir: string;

  before(async () => {
    agent = await startTestAgent('retry-agent', {
      upper: (p) => ({ word: String(p.word).toUpperCase() }),
      flaky: (p) => {
        if (broken) throw new SkillError('the finisher is out of ink');
        return { done: p.word };
      },
      steady: (p) => ({ done: `steady ${String(p.word)}` }),
    });
    const env = await temporalEnv();
    taskQueue = uniqueId('retry-q');
    cliEnv = { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue };
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-retry-'));
  });

  after(async () => {
    await agent.close();
  });

  /** Runs PIPELINE with a worker until it fails at `finish`; the worker then stops. */
  async function failedRun(word: string): Promise<string> {
    const env = await temporalEnv();
    const id = uniqueId('retry-run');
    broken = true;
    const { worker } = await createTestWorker({ agentUrls: [agent.url], taskQueue });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId: id, args: [{ definition: def(PIPELINE), input: { word } }] });
      await assert.rejects(handle.result());
    });
    return id;
  }

  async function withWorker<T>(body: () => Promise<T>): Promise<T> {
    const { worker } = await createTestWorker({ agentUrls: [agent.url], taskQueue });
    return worker.runUntil(body());
  }

  const calls = (skill: string) => agent.callsTo(skill).length;

  it('is planned and started with no worker running; the finished steps are not called again', async () => {
    const id = await failedRun('cat');
    const uppers = calls('upper');
    const t0 = Date.now();
    const started = await runCli(['retry', id, '--no-wait', '--json'], { env: cliEnv });
    assert.equal(started.code, 0, started.stderr);
    assert.ok(Date.now() - t0 < 20_000, 'no wait for a worker');
    const info = JSON.parse(started.stdout) as { workflow_id: string; run_id: string; offered: string[]; changed: string[] };
    assert.equal(info.workflow_id, id);
    assert.deepEqual(info.offered, ['shout', 'fixed']);
    assert.deepEqual(info.changed, []);

    broken = false;
    const env = await temporalEnv();
    const result = (await withWorker(() => env.client.workflow.getHandle(id, info.run_id).result())) as RunResult;
    assert.deepEqual(result.step_outputs, {
      shout: { outputs: { loud: { word: 'CAT' } } },
      fixed: { outputs: { loud: { word: 'CONSTANT' } } },
      finish: { outputs: { done: 'CAT' } },
    });
    assert.equal(calls('upper'), uppers, 'shout and fixed were reused');
    // status of the finished retry, from its history: the reused steps are shown as such.
    const status = JSON.parse((await runCli(['status', id, '--json'], { env: cliEnv })).stdout) as { steps: { id: string; state: string }[] };
    assert.deepEqual(status.steps.filter((s) => s.id !== 'load-definition').map((s) => [s.id, s.state]), [
      ['shout', 'reused'],
      ['fixed', 'reused'],
      ['finish', 'completed'],
    ]);
  });

  it('with --input: only steps whose resolved inputs are unchanged are reused, and it says which', async () => {
    const id = await failedRun('cat');
    const uppers = calls('upper');
    broken = false;
    const res = await withWorker(() => runCli(['retry', id, '--input', '{"word":"dog"}', '--app-dir', path.join(dir, 'app')], { env: cliEnv }));
    assert.equal(res.code, 0, res.stderr + res.stdout);
    assert.match(res.stdout, /^ {2}changed: input$/m);
    assert.match(res.stdout, /offered for reuse: shout, fixed/);
    assert.match(res.stdout, /^ {2}reused 1 of 2: fixed; ran again \(changed\) 1: shout$/m);
    assert.match(res.stdout, /completed Retry Pipeline/);
    assert.equal(calls('upper') - uppers, 1, 'shout ran again, fixed did not');
    const env = await temporalEnv();
    const result = (await env.client.workflow.getHandle(id).result()) as RunResult;
    assert.deepEqual(result.initial_input, { word: 'dog' });
    assert.deepEqual(result.final_output, { done: 'DOG' });
  });

  it('with --file: a fixed definition runs, reusing the steps it kept unchanged', async () => {
    const id = await failedRun('owl');
    const uppers = calls('upper');
    const file = path.join(dir, 'fixed.yaml');
    await writeFile(file, PIPELINE.replace('skill: flaky', 'skill: steady'));
    const res = await withWorker(() => runCli(['retry', id, '--file', file, '--json'], { env: cliEnv }));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /changed: definition: retry-pipeline-v1 1\.0\.0 \(given inline\) -> .*fixed\.yaml sha256:\w+$/m);
    assert.match(res.stderr, /reused 2 of 2: shout, fixed$/m);
    const result = JSON.parse(res.stdout) as RunResult;
    assert.deepEqual(result.final_output, { done: 'steady OWL' });
    assert.equal(calls('upper'), uppers);
  });

  it('refuses what it cannot do, before starting anything', async () => {
    const id = await failedRun('eel');
    const both = await runCli(['retry', id, '--file', 'a.yaml', '--workflow', 'x-v1'], { env: cliEnv });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /either --file or --workflow/);
    const badInput = await runCli(['retry', id, '--input', '[1]'], { env: cliEnv });
    assert.equal(badInput.code, 1);
    assert.match(badInput.stderr, /--input must be a JSON object/);
    const badFile = path.join(dir, 'bad.yaml');
    await writeFile(badFile, 'metadata: { id: x }\nsteps: nope\n');
    const invalid = await runCli(['retry', id, '--file', badFile], { env: cliEnv });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /bad\.yaml:\d+:\d+: /);
    const env = await temporalEnv();
    const { status } = await env.client.workflow.getHandle(id).describe();
    assert.equal(status.name, 'FAILED', 'no retry started');
  });
});
