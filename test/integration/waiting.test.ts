// Sleep and wait steps on real servers: on the dev server, a wait answered by the `event`
// update and by `pallet approve` (the CLI), refused events, a run that times out and then
// fails (histories recorded for the replay test); on the time-skipping test server, a
// two-hour sleep and a two-day timeout that take seconds, and a rejection.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SkillError, startTestAgent, type TestAgent } from '../helpers/agents';
import type { CliResult } from '../helpers/cli';
import { maybeRecord } from '../helpers/histories';
import { def } from '../helpers/runs';
import { ROOT, temporalEnv } from '../helpers/temporal';
import { timeSkippingEnv, timeSkippingWorker } from '../helpers/time-skipping';
import { createTestWorker, uniqueId } from '../helpers/worker';
import { eventUpdate, NOT_WAITING, stateQuery, type RunState, type WaitOutput } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import { palletWorkflow } from '../../src/workflows';

const APPROVAL = `
metadata: { id: approval-test-v1, name: Approval, version: "1.0.0" }
steps:
  - { id: draft, skill: draft }
  - { id: settle, step_type: sleep, duration: 1s }
  - id: review
    step_type: wait
    timeout: "{{ workflow.input.timeout }}"
    branches:
      approved:
        - { id: publish, skill: publish, inputs: { note: "{{ steps.review.outputs.data.note }}", by: "{{ steps.review.outputs.by }}" } }
      rejected:
        - { id: archive, skill: archive, inputs: { why: "{{ steps.review.outputs.data }}" } }
      timed_out:
        - { id: escalate, skill: escalate }
`;

const PAUSE = `
metadata: { id: pause-test-v1, name: Pause, version: "1.0.0" }
steps:
  - { id: before, skill: draft }
  - { id: pause, step_type: sleep, duration: 2h }
  - { id: after, skill: publish, inputs: { note: after the pause } }
`;

/** Polls the `state` query until `ready` holds. */
async function stateWhen(handle: WorkflowHandle, ready: (state: RunState) => boolean, timeoutMs = 30_000): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await handle.query(stateQuery);
    if (state && ready(state)) return state;
    if (Date.now() > deadline) throw new Error(`the run never got there; last state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const waitingFor = (step: string) => (state: RunState) => (state.waiting ?? []).some((w) => w.step === step);

/** The `pallet` CLI with the approve verb (and status), from src/ through ts-node, as test/helpers/cli.ts runs it. */
function pallet(args: string[], env: Record<string, string>): Promise<CliResult> {
  const entry = `
    const { Command } = require('commander');
    const program = new Command('pallet').exitOverride();
    require(${JSON.stringify(path.join(ROOT, 'src', 'cli', 'verbs', 'approvals'))}).registerApprovalCommands(program);
    require(${JSON.stringify(path.join(ROOT, 'src', 'cli', 'verbs', 'runs'))}).registerRunCommands(program);
    program.parseAsync(['node', 'pallet', ...process.argv.slice(1)]).catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), '-e', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('sleep and wait steps on real servers', function () {
  this.timeout(180_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent('waiting-agent', {
      draft: () => 'draft-1',
      publish: (p) => ({ published: p }),
      archive: (p) => ({ archived: p.why }),
      escalate: () => {
        throw new SkillError('nobody to escalate to');
      },
    });
  });

  after(() => agent.close());

  describe('on the dev server', () => {
    it('a wait answered by the event update; an event nothing waits for is refused, naming what it waits for', async () => {
      const env = await temporalEnv();
      const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
      const workflowId = uniqueId('approval');
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId,
        args: [{ definition: def(APPROVAL), input: { timeout: '1h' } }],
      });
      await worker.runUntil(async () => {
        // Too early: the wait has not started (the sleep before it is running).
        const early = await stateWhen(handle, (s) => s.running.includes('settle'));
        assert.equal(early.waiting, undefined);
        await assert.rejects(handle.executeUpdate(eventUpdate, { args: [{ event: 'review', outcome: 'approved' }] }), (err: Error) => {
          assert.ok(err instanceof WorkflowUpdateFailedError);
          assert.equal((err.cause as { type?: string }).type, NOT_WAITING);
          assert.match(String(err.cause?.message), /^the run is not waiting for "review": no wait step of it is waiting now$/);
          return true;
        });
        const state = await stateWhen(handle, waitingFor('review'));
        const [w] = state.waiting!;
        assert.equal(w.event, 'review');
        assert.equal(Date.parse(w.timeout_at!) - Date.parse(w.since), 3_600_000);
        const refused = (pattern: RegExp) => (err: Error) => err instanceof WorkflowUpdateFailedError && pattern.test(String(err.cause?.message));
        await assert.rejects(
          handle.executeUpdate(eventUpdate, { args: [{ event: 'publish', outcome: 'approved' }] }),
          refused(/^the run is not waiting for "publish": it is waiting for "review"$/),
        );
        await assert.rejects(
          handle.executeUpdate(eventUpdate, { args: [{ event: 'review', outcome: 'maybe' as 'approved' }] }),
          refused(/outcome is "approved" or "rejected", not "maybe"/),
        );
        const receipt = await handle.executeUpdate(eventUpdate, { args: [{ event: 'review', outcome: 'approved', data: { note: 'ship it' }, by: 'ana' }] });
        assert.deepEqual(receipt, { steps: ['review'], outcome: 'approved' });
        const result = (await handle.result()) as RunResult;
        assert.deepEqual(Object.keys(result.step_outputs), ['draft', 'review', 'publish']);
        assert.deepEqual(result.step_outputs.review.outputs, { outcome: 'approved', data: { note: 'ship it' }, by: 'ana' } satisfies WaitOutput);
        assert.deepEqual(result.final_output, { published: { note: 'ship it', by: 'ana' } });
      });
      await maybeRecord('waiting-completed', workflowId);
    });

    it('pallet approve: refuses a step not waiting (listing the waiting ones), shows in status, approves, refuses a closed run', async () => {
      const env = await temporalEnv();
      const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
      const cliEnv = { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue };
      const workflowId = uniqueId('approve-cli');
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId,
        args: [{ definition: def(APPROVAL), input: { timeout: '1h' } }],
      });
      await worker.runUntil(async () => {
        await stateWhen(handle, waitingFor('review'));
        const wrong = await pallet(['approve', workflowId, 'publish'], cliEnv);
        assert.equal(wrong.code, 1, wrong.stderr);
        assert.match(wrong.stderr, new RegExp(`${workflowId} is not waiting for "publish": it is waiting for "review"\\. Nothing was sent\\.`));
        const status = await pallet(['status', workflowId], cliEnv);
        assert.match(status.stdout, new RegExp(`review is waiting for event "review" since \\S+, until \\S+: \`pallet approve ${workflowId} review\``));
        const json = JSON.parse((await pallet(['status', workflowId, '--json'], cliEnv)).stdout) as { waiting: { step: string }[] };
        assert.deepEqual(
          json.waiting.map((w) => w.step),
          ['review'],
        );
        const res = await pallet(['approve', workflowId, 'review', '--reject', '--data', '"too long"', '--by', 'bo', '--json'], cliEnv);
        assert.equal(res.code, 0, res.stderr);
        const out = JSON.parse(res.stdout) as Record<string, unknown>;
        assert.deepEqual(
          { outcome: out.outcome, steps: out.steps, data: out.data, by: out.by },
          { outcome: 'rejected', steps: ['review'], data: 'too long', by: 'bo' },
        );
        const result = (await handle.result()) as RunResult;
        assert.deepEqual(result.step_outputs.archive.outputs, { archived: 'too long' });
      });
      const closed = await pallet(['approve', workflowId, 'review'], cliEnv);
      assert.equal(closed.code, 1);
      assert.match(closed.stderr, new RegExp(`${workflowId} is completed: only a running run waits for events`));
      const bad = await pallet(['approve', workflowId, 'review', '--data', '{nope'], cliEnv);
      assert.match(bad.stderr, /--data must be JSON/);
    });

    it('pallet approve without a worker says so after a few seconds and sends nothing', async () => {
      const env = await temporalEnv();
      const taskQueue = uniqueId('no-worker');
      const workflowId = uniqueId('approve-no-worker');
      await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition: def(APPROVAL), input: { timeout: '1h' } }] });
      const started = Date.now();
      const res = await pallet(['approve', workflowId, 'review'], { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /no worker answered .* within 5 s .*start one \(`npx pallet worker`\) and approve again\. Nothing was sent\./);
      assert.ok(Date.now() - started < 60_000);
      await env.client.workflow.getHandle(workflowId).terminate('test over');
    });

    it('a wait that times out runs timed_out; its failing step fails the run', async () => {
      const env = await temporalEnv();
      const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
      const workflowId = uniqueId('approval-timeout');
      const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition: def(APPROVAL), input: { timeout: 1 } }] });
      const err = await worker.runUntil(
        handle.result().then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /^Step "escalate" \(in "review"\) failed \(skill escalate\): .*nobody to escalate to/);
      await maybeRecord('waiting-failed', workflowId);
    });
  });

  describe('on the time-skipping test server', () => {
    let env: TestWorkflowEnvironment;
    before(async () => {
      env = await timeSkippingEnv();
    });
    after(async () => {
      await env?.teardown();
    });

    it('a two-hour sleep takes seconds', async () => {
      const { worker, taskQueue } = await timeSkippingWorker(env, [agent.url]);
      const started = Date.now();
      const result = (await worker.runUntil(
        env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId: uniqueId('pause'), args: [{ definition: def(PAUSE), input: {} }] }),
      )) as RunResult;
      assert.deepEqual(Object.keys(result.step_outputs), ['before', 'after']);
      assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
    });

    it('a wait with a two-day timeout times out and runs timed_out', async () => {
      const { worker, taskQueue } = await timeSkippingWorker(env, [agent.url]);
      const err = await worker.runUntil(
        env.client.workflow
          .execute(palletWorkflow, { taskQueue, workflowId: uniqueId('timeout'), args: [{ definition: def(APPROVAL), input: { timeout: '2d' } }] })
          .then(
            () => undefined,
            (e: unknown) => e,
          ),
      );
      assert.ok(err instanceof WorkflowFailedError, String(err));
      assert.match(String(err.cause?.message), /Step "escalate" \(in "review"\) failed/);
    });

    it('a wait rejected by the event update runs rejected', async () => {
      const { worker, taskQueue } = await timeSkippingWorker(env, [agent.url]);
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('reject'),
        args: [{ definition: def(APPROVAL), input: { timeout: '2d' } }],
      });
      const result = (await worker.runUntil(async () => {
        // Time stands still while no client awaits a result, so the 1 s sleep is what we wait for: skip it.
        await env.sleep(2_000);
        await stateWhen(handle, waitingFor('review'));
        await handle.executeUpdate(eventUpdate, { args: [{ event: 'review', outcome: 'rejected', data: 'no' }] });
        return handle.result();
      })) as RunResult;
      assert.deepEqual(result.step_outputs.review.outputs, { outcome: 'rejected', data: 'no' });
      assert.deepEqual(result.step_outputs.archive.outputs, { archived: 'no' });
    });
  });
});
