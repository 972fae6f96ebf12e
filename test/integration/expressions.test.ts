// `${{ }}` expressions on a real Temporal dev server with real HTTP agents: the bundled
// interpreter (CEL library included) takes branches by expressions and passes computed
// inputs; an expression that fails at run time fails the run at once, naming the step and
// the expression, and never leaves a workflow task retrying.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import path from 'node:path';
import { startExampleAgents } from '../../examples/agents/main';
import { loadDefinitionFile } from '../../src/dsl/loader';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { maybeRecord } from '../helpers/histories';
import { PALLET_WORKFLOWS } from '../helpers/pallet';
import { def } from '../helpers/runs';
import { runDefinition, withWorker } from '../helpers/worker';

const GATE = `
metadata: { id: expr-gate-v1, name: Expression gate, version: "1" }
steps:
  - id: plan
    skill: make_plan
    inputs: { requirements: "{{ workflow.input.requirements }}" }
  - id: review
    skill: review
  - id: gate
    step_type: conditional
    condition: "\${{ steps.review.outputs.score >= 0.8 && size(steps.review.outputs.issues) == 0 }}"
    branches:
      if_true:
        - id: route
          step_type: switch
          condition: "\${{ workflow.input.priority in ['high', 'urgent'] ? 'fast' : 'normal' }}"
          branches:
            fast:
              - id: build
                skill: echo
                inputs:
                  names: "\${{ steps.plan.outputs.items.filter(i, i.enabled).map(i, i.name) }}"
                  count: "\${{ size(steps.plan.outputs.items) + 1 }}"
                  title: "\${{ 'Plan: ' + workflow.input.requirements.upperAscii() }}"
                  template: "{{ workflow.input.priority }}"
            normal: [{ id: queue, skill: echo }]
      if_false: [{ id: fix, skill: echo }]
`;

describe('expressions (real Temporal server, real HTTP agents)', function () {
  this.timeout(120_000);
  let agent: TestAgent;

  before(async () => {
    agent = await startTestAgent('expr-agent', {
      make_plan: () => ({
        items: [
          { name: 'api', enabled: true },
          { name: 'ui', enabled: false },
          { name: 'db', enabled: true },
        ],
      }),
      // An integer score: JSON numbers compare with ints and doubles alike.
      review: () => ({ score: 1, issues: [] }),
      echo: (p) => ({ echoed: p }),
      // 100 KB that JavaScript's backtracking RegExp never gets through with '^(a+)+$'.
      big_text: () => ({ text: `${'a'.repeat(99_999)}!` }),
    });
  });
  after(() => agent.close());

  const opts = () => ({ agentUrls: [agent.url] });

  it('takes a branch by an expression and passes computed inputs', async () => {
    const result = await withWorker(opts(), async ({ start }) => {
      const handle = await start({ definition: def(GATE), input: { requirements: 'todo api', priority: 'urgent' } });
      const finished = (await handle.result()) as RunResult;
      await maybeRecord('expressions-completed', handle.workflowId);
      return finished;
    });
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'review', 'build']);
    assert.deepEqual(result.final_output, { echoed: { names: ['api', 'db'], count: 4, title: 'Plan: TODO API', template: 'urgent' } });
  });

  it('the other branch of the switch, by the same expression', async () => {
    const result = await runDefinition(opts(), def(GATE), { requirements: 'x', priority: 'low' });
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'review', 'queue']);
  });

  /** Starts a run and waits for its failure; also returns how long it took and the history's workflow task failures. */
  async function failedRun(yaml: string, input: Record<string, unknown>) {
    return withWorker(opts(), async ({ start }) => {
      const began = Date.now();
      const handle = await start({ definition: def(yaml), input });
      const err = await handle.result().then(
        () => assert.fail('the run should have failed'),
        (e: unknown) => e,
      );
      const seconds = (Date.now() - began) / 1000;
      const history = await handle.fetchHistory();
      const taskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
      assert.ok(err instanceof WorkflowFailedError, `expected a failed run, got ${String(err)}`);
      const cause = err.cause;
      assert.ok(cause instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(cause)}`);
      return { cause, seconds, taskFailures, workflowId: handle.workflowId };
    });
  }

  it('a condition that fails at run time fails the run at once, naming the step and the expression', async () => {
    const { cause, seconds, taskFailures, workflowId } = await failedRun(
      `
metadata: { id: expr-fail-v1, name: Expression failure, version: "1" }
steps:
  - id: review
    skill: review
  - id: gate
    step_type: conditional
    condition: "\${{ steps.review.outputs.verdict == 'ok' }}"
    branches: { if_true: [{ id: ship, skill: echo }] }
`,
      {},
    );
    assert.equal(cause.type, FailureTypes.expressionError);
    assert.equal(cause.nonRetryable, true);
    assert.equal(cause.message, `Step "gate" failed (conditional): condition \${{ steps.review.outputs.verdict == 'ok' }}: No such key: verdict`);
    assert.equal(taskFailures, 0, 'no workflow task failed (no retry loop)');
    assert.ok(seconds < 20, `the run failed after ${seconds} s`);
    await maybeRecord('expressions-failed', workflowId);
  });

  it('a computed input that fails at run time fails the run before the agent is called', async () => {
    const before = agent.calls.length;
    const { cause, seconds, taskFailures } = await failedRun(
      `
metadata: { id: expr-fail-input-v1, name: Expression failure in inputs, version: "1" }
steps:
  - id: build
    skill: echo
    inputs: { per_item: "\${{ workflow.input.total / size(workflow.input.items) }}" }
`,
      { total: 10, items: [] },
    );
    assert.equal(cause.type, FailureTypes.expressionError);
    assert.match(
      cause.message,
      /^Step "build" failed \(skill echo\): input \$\{\{ workflow\.input\.total \/ size\(workflow\.input\.items\) \}\}: .*not a JSON number \(division by zero\?\)/,
    );
    assert.equal(taskFailures, 0);
    assert.ok(seconds < 20, `the run failed after ${seconds} s`);
    assert.equal(agent.calls.length, before, 'the agent was not called');
  });

  describe('no expression stalls a workflow task', () => {
    const overBigText = (condition: string) => `
metadata: { id: expr-cost-v1, name: Expressions over a large answer, version: "1" }
steps:
  - id: big
    skill: big_text
  - id: gate
    step_type: conditional
    condition: "\${{ ${condition} }}"
    branches:
      if_true: [{ id: all_a, skill: echo, inputs: { reply: all a } }]
      if_false: [{ id: not_all_a, skill: echo, inputs: { reply: not all a } }]
`;

    it("'^(a+)+$' over a 100 KB answer takes its branch within seconds, with no workflow task failed", async () => {
      const { result, seconds, taskFailures } = await withWorker(opts(), async ({ start }) => {
        const began = Date.now();
        const handle = await start({ definition: def(overBigText("steps.big.outputs.text.matches('^(a+)+$')")), input: {} });
        const finished = (await handle.result()) as RunResult;
        const history = await handle.fetchHistory();
        return {
          result: finished,
          seconds: (Date.now() - began) / 1000,
          taskFailures: (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length,
        };
      });
      assert.deepEqual(Object.keys(result.step_outputs), ['big', 'not_all_a']);
      assert.equal(taskFailures, 0, 'no workflow task timed out or failed');
      assert.ok(seconds < 20, `the run took ${seconds} s`);
    });

    it('an expression that would cost too much fails the run with the limit named, within seconds', async () => {
      const condition = "steps.big.outputs.text.split('').exists(a, steps.big.outputs.text.split('').exists(b, a + b == '!!'))";
      const { cause, seconds, taskFailures } = await failedRun(overBigText(condition), {});
      assert.equal(cause.type, FailureTypes.expressionError);
      assert.equal(cause.nonRetryable, true);
      assert.match(
        cause.message,
        /^Step "gate" failed \(conditional\): condition \$\{\{ steps\.big\.outputs\.text\.split.*\}\}: the expression would cost more than 10,000,000 evaluation steps, the limit for one expression/,
      );
      assert.equal(taskFailures, 0, 'no workflow task timed out or failed');
      assert.ok(seconds < 20, `the run failed after ${seconds} s`);
    });
  });

  describe('pallet-workflows/review-gate.yaml with the example agents', () => {
    for (const priority of ['urgent', 'low']) {
      it(`runs the branch its expressions choose (priority ${priority})`, async () => {
        const agents = await startExampleAgents({ host: '127.0.0.1', basePort: 0, env: {} });
        try {
          const { definition } = await loadDefinitionFile(path.join(PALLET_WORKFLOWS, 'review-gate.yaml'));
          const result = await runDefinition({ agentUrls: agents.agents.map((a) => a.url) }, definition, {
            requirements: 'read a CSV file and print the total of each column',
            priority,
          });
          const review = result.step_outputs.review.outputs as { quality_score: number; issues: { severity: string; type: string }[] };
          const blocking = review.issues.filter((i) => i.severity !== 'low');
          const passed = review.quality_score >= 8 && blocking.length === 0;
          const expected = !passed ? ['rebuild'] : priority === 'urgent' ? ['quick_scan'] : ['security', 'performance'];
          assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'review', ...expected]);
          if (!passed) {
            // The rebuilt program has a function for every plan step and every blocking issue.
            const plan = result.step_outputs.plan.outputs as { steps: unknown[] };
            assert.ok(
              JSON.stringify(result.final_output).includes(`${plan.steps.length + blocking.length}-step plan`),
              JSON.stringify(result.final_output).slice(0, 400),
            );
          }
        } finally {
          await agents.close();
        }
      });
    }
  });
});
