// Large data through a run by claim check (docs/large-data.md), on the real dev server with
// a real registry: step 1 returns { meta, blob } with a large blob, step 2 receives the blob
// (`{{ steps.s1.outputs.blob }}`) and answers its length and hash, step 3 receives the meta
// and step 2's answer. The agent of step 2 gets the whole data, the history stays small, the
// run's result holds a reference, and `pallet result` (--json and the app folder) and
// `pallet status` show the data and the reference. 50 MB (about 40 s, most of it the three
// CLI processes); PALLET_LARGE_DATA_MB=5 for a quicker run.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../../src/activities';
import { RegistryClaimStore } from '../../src/claims';
import { isClaimRef, type ClaimRef } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import { DataStore, RegistryClient } from '../../src/registry';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { palletWorkflow } from '../../src/workflows';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { def } from '../helpers/runs';
import { ROOT, temporalEnv, workflowBundle } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.PALLET_LARGE_DATA_MB ?? 50);

const PIPELINE = def(`
metadata: { id: large-data-v1, name: Large data, version: "1" }
steps:
  - { id: s1, skill: make, inputs: { bytes: "{{ workflow.input.bytes }}" } }
  - { id: s2, skill: measure, inputs: { text: "{{ steps.s1.outputs.blob }}" } }
  - { id: s3, skill: summarize, inputs: { meta: "{{ steps.s1.outputs.meta }}", answer: "{{ steps.s2.outputs }}", kind: "{{ steps.s1.outputs.meta.kind }}" } }
`);

describe(`large data by claim check: a ${SIZE_MB} MB result through a three-step run (real server, real registry)`, function () {
  this.timeout(180_000);
  let reg: RunningRegistry;
  let agent: TestAgent;
  let received: { length: number; sha256: string }[];
  let blob: string;

  before(async () => {
    reg = await startRegistry();
    blob = 'b'.repeat(SIZE_MB * MB - 7) + 'the end';
    received = [];
    agent = await startTestAgent('data-agent', {
      make: () => ({ meta: { kind: 'text', note: 'made here' }, blob }),
      measure: (p) => {
        const text = String(p.text);
        const answer = { length: text.length, sha256: createHash('sha256').update(text).digest('hex') };
        received.push(answer);
        // Not kept in the recorded calls: the test compares its length and hash.
        p.text = `(${text.length} characters)`;
        return answer;
      },
      summarize: (p) => ({ meta: p.meta, answer: p.answer, kind: p.kind }),
    });
  });
  after(async () => {
    await agent?.close();
    await reg?.stop();
  });

  it('the agent of step 2 receives the whole data, the history stays small, the result holds a reference, `pallet result` the data', async () => {
    const env = await temporalEnv();
    const taskQueue = uniqueId('large-data');
    const claims = new RegistryClaimStore(new DataStore(new RegistryClient({ registry: reg.host, maxBlobBytes: 256 * MB, timeoutMs: 120_000 }), 'pallet-data'));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({
        directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000),
        definitions: new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
        claims,
        claimCheckBytes: 256 * 1024,
      }),
    });
    const workflowId = uniqueId('large-data-run');
    const started = Date.now();
    const { result, historyBytes } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId,
        args: [{ definition: PIPELINE, input: { bytes: SIZE_MB * MB } }],
      });
      const result = (await handle.result()) as RunResult;
      const history = await handle.fetchHistory();
      return { result, historyBytes: temporal.api.history.v1.History.encode(history).finish().length };
    });
    const runMs = Date.now() - started;
    const expected = { length: blob.length, sha256: createHash('sha256').update(blob).digest('hex') };

    // Step 2's agent got the data itself, whole.
    assert.deepEqual(received, [expected]);
    // Step 3 got the small parts as they were, and step 2's answer.
    assert.deepEqual(result.step_outputs.s3.outputs, { meta: { kind: 'text', note: 'made here' }, answer: expected, kind: 'text' });
    // The run's result: the structure kept, the large leaf a reference to exactly the data.
    const s1 = result.step_outputs.s1.outputs as { meta: unknown; blob: ClaimRef };
    assert.deepEqual(s1.meta, { kind: 'text', note: 'made here' });
    assert.ok(isClaimRef(s1.blob), `a reference: ${JSON.stringify(s1.blob).slice(0, 200)}`);
    assert.equal(s1.blob.size, blob.length);
    assert.equal(s1.blob.$pallet_ref, `sha256:${expected.sha256}`);
    // The history holds references only: a few KB, not the data.
    assert.ok(historyBytes < 64 * 1024, `history is ${historyBytes} bytes`);

    // `pallet result --json` and the run's folder: the data; `pallet status`: the reference.
    const cliEnv = { TEMPORAL_ADDRESS: env.address, PALLET_TASK_QUEUE: taskQueue, PALLET_REGISTRY: reg.host };
    const cliStarted = Date.now();
    const json = await runCli(['result', workflowId, '--json'], { env: cliEnv });
    assert.equal(json.code, 0, json.stderr);
    const printed = JSON.parse(json.stdout) as RunResult;
    assert.equal((printed.step_outputs.s1.outputs as { blob: string }).blob, blob);
    assert.deepEqual(printed.final_output, result.final_output);
    const appDir = await mkdtemp(path.join(os.tmpdir(), 'pallet-large-data-'));
    try {
      const res = await runCli(['result', workflowId, '--app-dir', appDir], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      const saved = JSON.parse(await readFile(path.join(appDir, workflowId, 'result.json'), 'utf8')) as RunResult;
      assert.equal((saved.step_outputs.s1.outputs as { blob: string }).blob, blob);
    } finally {
      await rm(appDir, { recursive: true, force: true });
    }
    const status = await runCli(['status', workflowId], { env: cliEnv });
    assert.equal(status.code, 0, status.stderr);
    const size = (blob.length / 1e6).toFixed(1);
    assert.ok(
      status.stdout.includes(`s1: {"meta":{"kind":"text","note":"made here"},"blob":"<${size} MB at ${s1.blob.$pallet_ref.slice(0, 19)}…>"}`),
      status.stdout,
    );
    if (process.env.DEBUG_LARGE_DATA) {
      console.log(`      ${SIZE_MB} MB: run ${runMs} ms, history ${historyBytes} bytes, result --json + --app-dir + status ${Date.now() - cliStarted} ms`);
    }
  });
});
