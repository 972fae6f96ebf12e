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
      // A batched parallel step's branch: two of them fail, after the others have had time to finish.
      branch: async (p) => {
        if (broken && (p.i === 350 || p.i === 1100)) {
          await new Promise((r) => setTimeout(r, 3000));
          throw new SkillError(`branch ${String(p.i)} is out of ink`);
        }
        return { i: p.i };
      },
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
    assert.deepEqual(
      status.steps.filter((s) => s.id !== 'load-definition').map((s) => [s.id, s.state]),
      [
        ['shout', 'reused'],
        ['fixed', 'reused'],
        ['finish', 'completed'],
      ],
    );
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

  it('of a run whose batched parallel step failed (1,200 branches in child workflows of 500): calls only the branches that did not finish', async () => {
    const branches = 1200;
    const steps = Array.from({ length: branches }, (_, i) => `        - { id: b${i}, skill: branch, inputs: { i: ${i} } }`).join('\n');
    const fan = def(
      `metadata: { id: retry-fan-v1, name: Retry Fan, version: "1" }\nsteps:\n  - id: fan\n    step_type: parallel\n    branches:\n      steps:\n${steps}\n`,
    );
    const env = await temporalEnv();
    const id = uniqueId('retry-fan');
    broken = true;
    await withWorker(async () => {
      const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId: id, args: [{ definition: fan }] });
      await assert.rejects(handle.result());
    });
    // What finished, read here from the batch children's histories as the server has them.
    const finished = new Set<string>();
    for (let batch = 0; batch * 500 < branches; batch++) {
      const events = (await env.client.workflow.getHandle(`${id}.fan.batch-${batch}`).fetchHistory()).events ?? [];
      const scheduled = new Map(
        events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityId!]),
      );
      for (const e of events)
        if (e.activityTaskCompletedEventAttributes) finished.add(scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId))!);
    }
    assert.ok(finished.size > 0 && finished.size < branches - 1, `some branches finished, not all (${finished.size})`);

    broken = false;
    const before = calls('branch');
    const t0 = Date.now();
    const res = await withWorker(() => runCli(['retry', id, '--app-dir', path.join(dir, 'app')], { env: cliEnv, timeoutMs: 240_000 }));
    assert.equal(res.code, 0, res.stderr + res.stdout);
    const called = agent
      .callsTo('branch')
      .slice(before)
      .map((c) => `b${String(c.params.i)}`);
    const expected = Array.from({ length: branches }, (_, i) => `b${i}`).filter((b) => !finished.has(b));
    assert.deepEqual([...called].sort(), expected.sort(), 'exactly the branches that had not finished were called, once each');
    assert.match(res.stdout, new RegExp(`^ {2}reused ${finished.size} of ${finished.size}: `, 'm'));
    const result = (await env.client.workflow.getHandle(id).result()) as RunResult;
    assert.equal(Object.keys(result.step_outputs).length, branches);
    assert.deepEqual(result.step_outputs.b1100, { outputs: { i: 1100 } });
    console.log(`      (first run finished ${finished.size} of ${branches} branches; the retry called ${called.length}, in ${Date.now() - t0} ms)`);
  });

  it('with --input after the run continued as new: the carried steps the change does not touch are reused', async () => {
    const constants = Array.from({ length: 10 }, (_, i) => `  - { id: a${i}, skill: upper, inputs: { word: constant${i} } }`).join('\n');
    const long = def(`metadata: { id: retry-long-v1, name: Retry Long, version: "1" }\nsteps:\n${constants}\n${PIPELINE.split('\n').slice(3).join('\n')}`);
    const env = await temporalEnv();
    const id = uniqueId('retry-long');
    broken = true;
    await withWorker(async () => {
      // A low history limit: the run continues as new while it runs the constant steps.
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: id,
        args: [{ definition: long, input: { word: 'cat' }, historyLimit: 20 }],
      });
      await assert.rejects(handle.result());
    });
    const started = (await env.client.workflow.getHandle(id).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.continuedExecutionRunId, 'the failed run is a later generation (it continued as new)');
    const uppers = calls('upper');
    broken = false;
    const res = await withWorker(() => runCli(['retry', id, '--input', '{"word":"dog"}', '--json'], { env: cliEnv }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(calls('upper') - uppers, 1, 'only shout (its input changed) was called again; a0..a9 and fixed were reused');
    const result = JSON.parse(res.stdout) as RunResult;
    assert.deepEqual(result.final_output, { done: 'DOG' });
    assert.deepEqual(result.step_outputs.a9, { outputs: { word: 'CONSTANT9' } });
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
