// Loops on the real dev server: a repeat step that refines until good, and for_each: a map over items with a concurrency limit, results in item
// order (map-reduce); cut across continue-as-new generations without calling an item twice;
// 10,000 items with PALLET_SLOW=1.
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import type { PalletWorkflowInput } from '../../src/contract';
import type { RunResult, WorkflowDefinition } from '../../src/dsl/types';
import { palletWorkflow } from '../../src/workflows';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { maybeRecord } from '../helpers/histories';
import { def } from '../helpers/runs';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';

const slow = process.env.PALLET_SLOW ? it : it.skip;

const MAP_REDUCE = (concurrency: number) =>
  def(`
metadata: { id: map-reduce-v1, name: Map reduce, version: "1" }
steps:
  - { id: list, skill: list_files, inputs: { n: "{{ workflow.input.n }}" }, outputs: files }
  - id: summarize_all
    step_type: for_each
    items: "{{ steps.list.outputs.files }}"
    concurrency: ${concurrency}
    steps:
      - { id: summarize, skill: summarize, inputs: { file: "{{ item }}", position: "{{ index }}" } }
  - { id: reduce, skill: reduce, inputs: { summaries: "{{ steps.summarize_all.outputs }}" } }
`);

describe('loops: for_each and repeat (real server)', function () {
  this.timeout(1_200_000);
  let agent: TestAgent;
  let inFlight = 0;
  let peak = 0;

  before(async () => {
    agent = await startTestAgent('mapper', {
      list_files: (p) => Array.from({ length: Number(p.n) }, (_, i) => `file-${i}.txt`),
      summarize: async (p) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { file: p.file, position: p.position, words: String(p.file).length };
      },
      improve: (p) => ({ text: `${String(p.text ?? 'draft')}!`, score: String(p.text ?? 'draft').length }),
      reduce: (p) => ({ count: (p.summaries as unknown[]).length, words: (p.summaries as { words: number }[]).reduce((a, s) => a + s.words, 0) }),
    });
  });
  after(() => agent.close());

  async function run(definition: WorkflowDefinition, input: Record<string, unknown>, historyLimit?: number) {
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    const workflowId = uniqueId('map');
    const handle = await env.client.workflow.start(palletWorkflow, {
      taskQueue,
      workflowId,
      args: [{ definition, input, ...(historyLimit ? { historyLimit } : {}) }],
    });
    const started = Date.now();
    const result = (await worker.runUntil(handle.result())) as RunResult;
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const last = defaultPayloadConverter.fromPayload<PalletWorkflowInput>(history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0]);
    return { result, workflowId, generations: last.generations ?? [], seconds: (Date.now() - started) / 1000 };
  }

  it('maps items with at most `concurrency` calls at once and reduces the list, in item order', async () => {
    peak = 0;
    const { result, workflowId } = await run(MAP_REDUCE(4), { n: 20 });
    assert.deepEqual(Object.keys(result.step_outputs), ['list', 'summarize_all', 'reduce']);
    const summaries = result.step_outputs.summarize_all.outputs as { file: string; position: number }[];
    assert.deepEqual(
      summaries.map((s) => s.file),
      Array.from({ length: 20 }, (_, i) => `file-${i}.txt`),
    );
    assert.deepEqual(
      summaries.map((s) => s.position),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.deepEqual(result.final_output, { count: 20, words: summaries.reduce((a, s) => a + s.file.length, 0) });
    assert.ok(peak > 1 && peak <= 4, `peak ${peak}`);
    await maybeRecord('for-each-completed', workflowId);
  });

  it('a loop cut by continue-as-new finishes with each item called once', async () => {
    const before = agent.callsTo('summarize').length;
    const { result, generations } = await run(MAP_REDUCE(8), { n: 120 }, 150);
    assert.ok(generations.length >= 2, `${generations.length} earlier generations`);
    assert.equal(agent.callsTo('summarize').length - before, 120, 'no item called twice');
    assert.equal((result.step_outputs.summarize_all.outputs as unknown[]).length, 120);
    assert.deepEqual((result.final_output as { count: number }).count, 120);
  });

  it('repeat: improves until the condition holds, each round seeing the last', async () => {
    const { result, workflowId } = await run(
      def(`
metadata: { id: refine-v1, name: Refine, version: "1" }
steps:
  - id: refine
    step_type: repeat
    until: "\${{ steps.improve.outputs.score >= 8 }}"
    max_iterations: 10
    steps:
      - { id: improve, skill: improve, inputs: { text: "{{ steps.improve.outputs.text }}" } }
`),
      {},
    );
    assert.deepEqual(result.step_outputs.refine.outputs, { result: { text: 'draft!!!!', score: 8 }, iterations: 4, until_met: true });
    await maybeRecord('repeat-completed', workflowId);
  });

  it('a failing item fails the loop, naming its iteration', async () => {
    const env = await temporalEnv();
    const { worker, taskQueue } = await createTestWorker({ agentUrls: [agent.url] });
    const workflowId = uniqueId('map-fail');
    const definition = def(`
metadata: { id: map-fail-v1, name: Map failure, version: "1" }
steps:
  - id: each
    step_type: for_each
    items: [a, b, c]
    steps: [ { id: work, skill: no_such_skill, inputs: { x: "{{ item }}" } } ]
`);
    const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId, args: [{ definition, input: {} }] });
    const err = await worker.runUntil(
      handle.result().then(
        () => undefined,
        (e: unknown) => e as Error,
      ),
    );
    assert.match(String((err as { cause?: Error })?.cause?.message), /^Step "work" \(in "each\[0\]"\) failed \(skill no_such_skill\)/);
    await maybeRecord('for-each-failed', workflowId);
  });

  slow('10,000 items complete (map-reduce), across generations', async () => {
    const { result, generations, seconds } = await run(MAP_REDUCE(50), { n: 10_000 });
    console.log(`      10,000 items: ${seconds.toFixed(0)} s, ${generations.length + 1} generations`);
    assert.equal((result.final_output as { count: number }).count, 10_000);
  });
});
