// Temporal's limits on a real server: an input too large for a payload fails its step at
// once with the size (no workflow task retried in a loop); a fan-out whose inputs add up past
// one task's message size runs in waves and completes. Slow cases run with PALLET_SLOW=1 (npm run test:slow).
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import type { WorkflowDefinition } from '../../src/dsl/types';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runDefinition } from '../helpers/worker';
import { def } from '../helpers/runs';

const slow = process.env.PALLET_SLOW ? it : it.skip;

function fanOut(branches: number, bytes: number): WorkflowDefinition {
  const steps = Array.from({ length: branches }, (_, i) => `        - { id: b${i}, skill: sized, inputs: { blob: "{{ steps.make.outputs }}", i: ${i} } }`).join(
    '\n',
  );
  return def(`metadata: { id: fan, name: Fan, version: "1" }
steps:
  - { id: make, skill: make, inputs: { bytes: ${bytes} } }
  - id: fan
    step_type: parallel
    branches:
      steps:
${steps}
`);
}

describe('Temporal limits kept by the interpreter (real server)', function () {
  this.timeout(600_000);
  let agent: TestAgent;
  let inFlight = 0;
  let peak = 0;

  before(async () => {
    agent = await startTestAgent('sized-agent', {
      make: (p) => 'x'.repeat(Number(p.bytes)),
      sized: async (p) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { i: p.i, got: String(p.blob).length };
      },
      echo: (p) => p,
    });
  });
  after(() => agent?.close());

  it('a step whose inputs after templating exceed a payload fails at once, naming the step, the size and the limit', async () => {
    const started = Date.now();
    const run = runDefinition(
      { agentUrls: [agent.url] },
      def(`metadata: { id: big-input, name: Big input, version: "1" }
steps:
  - { id: make, skill: make, inputs: { bytes: 1200000 } }
  - { id: twice, skill: echo, inputs: { a: "{{ steps.make.outputs }}", b: "{{ steps.make.outputs }}" } }
`),
    );
    const err = await run.then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(
      String(err.cause?.message),
      /^Step "twice" failed \(skill echo\): its inputs after templating: \d{7} bytes, over the 1900000-byte limit of a Temporal payload/,
    );
    assert.ok(Date.now() - started < 30_000, 'failed promptly');
    assert.equal(agent.callsTo('echo').length, 0, 'the agent was never called');
  });

  it('parallel steps whose inputs add up past one workflow task (8 × 1 MB) run in waves and complete', async () => {
    const result = await runDefinition({ agentUrls: [agent.url] }, fanOut(8, 1_000_000));
    assert.equal(Object.keys(result.step_outputs).length, 9);
    assert.deepEqual(result.step_outputs.b7.outputs, { i: 7, got: 1_000_000 });
  });

  // Past 1,000 branches a parallel step runs in child workflows of 500 (long-runs.test.ts has
  // 1,200 and 5,000): the result keeps Pallet's order.
  slow('a parallel step of 1,500 branches completes, recorded in declaration order', async () => {
    const result = await runDefinition({ agentUrls: [agent.url] }, fanOut(1500, 10));
    assert.equal(Object.keys(result.step_outputs).length, 1501);
    assert.deepEqual(Object.keys(result.step_outputs).slice(1, 4), ['b0', 'b1', 'b2'], 'Pallet order: declaration order');
    assert.ok(peak > 1, 'the calls ran concurrently');
  });
});
