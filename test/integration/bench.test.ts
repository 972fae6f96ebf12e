// The bench harness cannot rot: the interpreter suite's smallest case, once, through the code
// `npm run bench` runs (the bench worker with both workflows, timed runs, history figures).
// No timing assertions: only that figures come back and that both workflows agree.
import assert from 'node:assert/strict';
import { BENCH_SKILL } from '../../bench/env';
import { benchWorker, chainCase } from '../../bench/hand-written/cases';
import { measureCase, TARGET } from '../../bench/suites/interpreter';
import type { BenchEnv } from '../../bench/suite';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { temporalEnv } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';

describe('npm run bench: the interpreter suite (smoke)', function () {
  this.timeout(300_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent('bench-agent', { [BENCH_SKILL]: (params) => ({ result: `${BENCH_SKILL} done`, ...params }) });
  });
  after(() => agent.close());

  it('times one sequential step run by the interpreter and by the hand-written workflow, with the same result and calls', async () => {
    const temporal = await temporalEnv();
    const env: BenchEnv = {
      address: temporal.address,
      namespace: temporal.namespace ?? 'default',
      connection: temporal.nativeConnection,
      client: temporal.client,
      registry: '',
      agentUrl: agent.url,
      quick: true,
    };
    const taskQueue = uniqueId('bench-smoke');
    const worker = await benchWorker(env, taskQueue);
    const row = await worker.runUntil(measureCase(env, taskQueue, chainCase(1), 1, 'interpreter', TARGET, false));

    assert.equal(row.case, '1 sequential step');
    for (const side of [row.ours, row.reference!]) {
      assert.equal(side.n, 1);
      assert.ok(Number.isFinite(side.median) && side.median > 0, `a positive time: ${side.median}`);
    }
    assert.ok(Number.isFinite(row.ratio) && row.ratio! > 0);
    const details = row.details as {
      sameResult: boolean;
      oursHistory: { activities: number; workflowTasks: number };
      referenceHistory: { activities: number };
    };
    assert.equal(details.sameResult, true, 'both workflows return the same result');
    assert.equal(details.oursHistory.activities, 1);
    assert.equal(details.referenceHistory.activities, 1);
    assert.ok(details.oursHistory.workflowTasks >= 1);
    // One call each, the same skill and inputs.
    assert.deepEqual(
      agent.calls.map((c) => [c.skill, c.params]),
      [
        [BENCH_SKILL, { x: 'bench input' }],
        [BENCH_SKILL, { x: 'bench input' }],
      ],
    );
  });
});
