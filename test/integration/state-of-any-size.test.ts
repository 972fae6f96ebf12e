// Runs whose state outgrows a payload, and what continue-as-new must carry besides outputs:
// on the real dev server with a real registry, a chain whose carried outputs pass the inline
// limit keeps them in the data store (segments) and a later step still reads the first step;
// its result is assembled in the data store and resolves to the result of one long history.
// A workflow that runs itself ends with a message. On the time-skipping server, a sleep cut by
// continue-as-new still wakes when it was due, and that generation's history replays.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { isClaimRef, type PalletWorkflowInput } from '../../src/contract';
import { RegistryClaimStore, resolveClaims } from '../../src/claims';
import type { RunResult, WorkflowDefinition } from '../../src/dsl/types';
import { RegistryClient } from '../../src/registry/client';
import { DataStore } from '../../src/registry/data';
import { replayHistory } from '../../src/replay';
import { DirectoryStore } from '../../src/sources/definitions';
import { palletWorkflow } from '../../src/workflows';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { def, failureMessage } from '../helpers/runs';
import { temporalEnv, workflowBundle } from '../helpers/temporal';
import { timeSkippingEnv, timeSkippingWorker } from '../helpers/time-skipping';
import { createTestWorker, uniqueId } from '../helpers/worker';

/** A chain of n steps, each answering about 1 KB; the last one reads the first. */
function chain(n: number): WorkflowDefinition {
  const steps = Array.from({ length: n }, (_, i) => {
    if (i === 0) return '  - { id: s0, skill: pad, inputs: { n: 0 }, outputs: r }';
    if (i === n - 1)
      return `  - { id: s${i}, skill: pad, inputs: { n: "{{ steps.s${i - 1}.outputs.r.n }}", first: "{{ steps.s0.outputs.r.text }}" }, outputs: r }`;
    return `  - { id: s${i}, skill: pad, inputs: { n: "{{ steps.s${i - 1}.outputs.r.n }}" }, outputs: r }`;
  });
  return def(`metadata: { id: chain, name: Chain, version: "1" }\nsteps:\n${steps.join('\n')}\n`);
}

const inputOf = (payloads: unknown) => defaultPayloadConverter.fromPayload<PalletWorkflowInput>((payloads as { payloads: never[] }).payloads[0]);

describe('state of any size across continue-as-new (real server, real registry)', function () {
  this.timeout(600_000);
  let agent: TestAgent;
  let registry: RunningRegistry;
  let claims: RegistryClaimStore;

  before(async () => {
    agent = await startTestAgent('pad', {
      pad: (p) => ({ n: Number(p.n) + 1, text: `${'x'.repeat(1000)}${p.n}`, ...(p.first !== undefined ? { first: p.first } : {}) }),
    });
    registry = await startRegistry();
    claims = new RegistryClaimStore(
      new DataStore(new RegistryClient({ registry: registry.host, timeoutMs: 60_000, maxBlobBytes: 256 * 1024 * 1024 }), 'pallet-data'),
    );
  });
  after(async () => {
    await agent?.close();
    await registry?.stop();
  });

  it('keeps the outputs no later step reads in the data store; a later step reads the first; the result is that of one long history', async () => {
    const env = await temporalEnv();
    const definition = chain(60);
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url], claims });
    const workflowId = uniqueId('state');
    // Both runs with one worker (a worker runs once): the long one, then one long history.
    const [raw, single] = (await worker.runUntil(
      Promise.all([
        env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId, args: [{ definition, input: {}, historyLimit: 120, inlineStateBytes: 8_000 }] }),
        env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId: uniqueId('single'), args: [{ definition, input: {} }] }),
      ]),
    )) as [RunResult, RunResult];

    // The run's own result holds a reference to its step outputs, kept in the data store.
    assert.ok(isClaimRef(raw.step_outputs), `step_outputs is a reference: ${JSON.stringify(raw.step_outputs).slice(0, 200)}`);
    const resolved = (await resolveClaims(raw, claims)) as RunResult;
    assert.deepEqual(resolved, single, 'the same result, key for key and in order');
    assert.deepEqual(Object.keys(resolved.step_outputs).length, 60);
    const last = resolved.final_output as { r: { n: number; first: string } };
    assert.equal(last.r.n, 60);
    assert.equal(last.r.first, `${'x'.repeat(1000)}0`, 'the last step read the first one');

    // The last generation carried few outputs inline and the rest by reference.
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const args = inputOf(history.events![0].workflowExecutionStartedEventAttributes!.input);
    assert.ok((args.generations ?? []).length >= 2, `${args.generations?.length} earlier generations`);
    assert.ok(args.stored && args.stored.segments.length >= 1, 'segments in the data store');
    assert.ok(Object.keys(args.carried ?? {}).length < 10, `carried inline: ${Object.keys(args.carried ?? {}).join(', ')}`);
    assert.ok(Object.prototype.hasOwnProperty.call(args.carried, 's0'), 's0 stays inline: the last step reads it');
    assert.ok(Object.keys(args.stored.index).length > 20);
    assert.ok(
      args.generations!.every((g) => typeof g.started_at === 'string'),
      'each generation says when it started',
    );
  });

  it('a worker without a data store carries a large state inline while it fits one payload, as before', async () => {
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    const workflowId = uniqueId('state-inline');
    const result = (await worker.runUntil(
      env.client.workflow.execute(palletWorkflow, {
        taskQueue,
        workflowId,
        args: [{ definition: chain(60), input: {}, historyLimit: 120, inlineStateBytes: 8_000 }],
      }),
    )) as RunResult;
    assert.equal(Object.keys(result.step_outputs).length, 60, 'the result is inline, whole');
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const args = inputOf(history.events![0].workflowExecutionStartedEventAttributes!.input);
    assert.ok((args.generations ?? []).length >= 2, 'the run continued as new');
    assert.equal(args.stored, undefined, 'nothing went to a data store');
    assert.ok(Object.keys(args.carried ?? {}).length > 40, 'every finished step carried inline');
  });

  // npm run test:slow: the run of the measure, 10,000 steps of 1 KB each at the server's own limits.
  (process.env.PALLET_SLOW ? it : it.skip)(
    '10,000 sequential steps of 1 KB outputs complete; the last reads the first; the whole result resolves',
    async function () {
      this.timeout(3_600_000);
      const env = await temporalEnv();
      const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url], claims });
      const workflowId = uniqueId('state-10k');
      const started = Date.now();
      const raw = (await worker.runUntil(
        env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId, args: [{ definition: chain(10_000), input: {} }] }),
      )) as RunResult;
      const seconds = (Date.now() - started) / 1000;
      const resolved = (await resolveClaims(raw, claims)) as RunResult;
      assert.equal(Object.keys(resolved.step_outputs).length, 10_000);
      const last = resolved.final_output as { r: { n: number; first: string } };
      assert.equal(last.r.n, 10_000);
      assert.equal(last.r.first, `${'x'.repeat(1000)}0`);
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const args = inputOf(history.events![0].workflowExecutionStartedEventAttributes!.input);
      console.log(
        `      10,000 steps of 1 KB: ${seconds.toFixed(0)} s, ${(args.generations ?? []).length + 1} generations, ${args.stored?.segments.length ?? 0} segments`,
      );
    },
  );

  it('a workflow that runs itself ends with a message naming the nesting', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-self-'));
    try {
      await writeFile(
        path.join(dir, 'ouroboros-v1.yaml'),
        'metadata: { id: ouroboros-v1, name: Ouroboros, version: "1" }\nsteps:\n  - { id: again, skill: execute_workflow, inputs: { workflow_id: ouroboros-v1 } }\n',
      );
      const env = await temporalEnv();
      const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url], definitions: new DirectoryStore(dir) });
      const run = env.client.workflow.execute(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('self'),
        args: [{ source: { ref: 'ouroboros-v1', digest: '' }, input: {} }],
      });
      const message = await worker.runUntil(failureMessage(run));
      assert.match(message, /would nest runs 17 deep \(ouroboros-v1( -> ouroboros-v1){16}\), past the limit of 16/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('timers across continue-as-new (time-skipping server)', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  let agent: TestAgent;
  before(async () => {
    env = await timeSkippingEnv();
    agent = await startTestAgent('inc', { inc: (p) => ({ n: Number(p.n) + 1 }) });
  });
  after(async () => {
    await env?.teardown();
    await agent?.close();
  });

  const CUT = `
metadata: { id: cut-sleep, name: Cut sleep, version: "1" }
steps:
  - id: both
    step_type: parallel
    branches:
      steps:
        - { id: long_nap, step_type: sleep, duration: 2h }
        - { id: busy, step_type: for_each, items: [1, 2, 3, 4, 5, 6], steps: [{ id: tick, skill: inc, inputs: { n: "{{ item }}" } }, { id: pause, step_type: sleep, duration: 15m }] }
  - { id: after, skill: inc, inputs: { n: 0 } }
`;

  it('a two-hour sleep cut by a generation change wakes two hours after it began, and that generation replays', async () => {
    const { worker, taskQueue } = await timeSkippingWorker(env, [agent.url]);
    const workflowId = uniqueId('cut');
    const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition: def(CUT), input: {}, historyLimit: 30 }] });
    await worker.runUntil(handle.result());
    const last = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const args = inputOf(last.events![0].workflowExecutionStartedEventAttributes!.input);
    assert.ok((args.generations ?? []).length >= 1, 'the run continued as new');
    const first = args.generations![0];
    const began = Date.parse(first.started_at!);
    const ended = Number(last.events![last.events!.length - 1].eventTime!.seconds) * 1000;
    const hours = (ended - began) / 3_600_000;
    // The busy branch takes 1.5 h; the nap 2 h from its start, not 2 h from the new generation.
    assert.ok(hours >= 1.99 && hours < 2.2, `the run took ${hours.toFixed(2)} h of workflow time`);
    const firstHistory = await env.client.workflow.getHandle(workflowId, first.run_id).fetchHistory();
    await replayHistory(firstHistory, workflowId, { workflowBundle: await workflowBundle() });
  });
});
