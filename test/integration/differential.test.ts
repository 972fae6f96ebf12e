// Differential test on Temporal: the cases of test/differential/ (see its README.md) run on
// the real dev server, through a real worker (bundled interpreter, real activities), against
// a real HTTP agent on loopback that answers every skill as the fake agent does. Nested
// workflows are child workflows loaded from cases/children/. Results must equal what Pallet's
// own engine gave (test/differential/expected/), key order included; the unit twin is
// test/unit/differential.test.ts.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { formatProblem, parseDefinition } from '../../src/dsl/loader';
import type { RunResult } from '../../src/dsl/types';
import { DirectoryStore } from '../../src/sources/definitions';
import { CHILDREN_DIR, isPalletError, keyOrder, loadCases, outcome, skillsUsed, type DiffCase } from '../differential/cases';
import { fakeAnswer } from '../differential/fake-agent';
import { SkillError, startTestAgent, type SkillFn, type TestAgent } from '../helpers/agents';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import { palletWorkflow } from '../../src/workflows';

/** How a case ended on Temporal. */
type Outcome = { kind: 'refused'; problems: string } | { kind: 'completed'; result: RunResult } | { kind: 'failed'; error: unknown };

const cases = loadCases();

/** Our engine never sends execute_workflow to an agent (it runs a child workflow). */
function refuseChildRuns(): Promise<never> {
  return Promise.reject(new Error('execute_workflow reached the agent: our engine should have run a child workflow'));
}

function fakeSkill(skill: string): SkillFn {
  return async (params) => {
    const answer = await fakeAnswer(skill, params, refuseChildRuns);
    if (answer.kind === 'error') throw new SkillError(answer.message);
    return answer.value;
  };
}

describe('differential on Temporal: our engine against Pallet’s own (test/differential)', function () {
  this.timeout(120_000);
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  const outcomes = new Map<string, Promise<Outcome>>();

  before(async () => {
    const env = await temporalEnv();
    agent = await startTestAgent('differential-fake-agent', Object.fromEntries(skillsUsed().map((skill) => [skill, fakeSkill(skill)])));
    const created = await createTestWorker({ agentUrls: [agent.url], definitions: new DirectoryStore(CHILDREN_DIR) });
    worker = created.worker;
    running = worker.run();
    // Every case starts at once; each test below awaits its own.
    for (const c of cases) outcomes.set(c.name, start(c));

    async function start(c: DiffCase): Promise<Outcome> {
      const parsed = parseDefinition(c.text, c.file);
      if (!parsed.ok) return { kind: 'refused', problems: parsed.problems.map(formatProblem).join('\n') };
      try {
        const handle = await env.client.workflow.start(palletWorkflow, {
          taskQueue: created.taskQueue,
          workflowId: uniqueId(`diff-${c.name}`),
          args: [{ definition: parsed.definition, input: c.input }],
        });
        return { kind: 'completed', result: (await handle.result()) as RunResult };
      } catch (error) {
        return { kind: 'failed', error };
      }
    }
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await agent?.close();
  });

  async function completed(c: DiffCase): Promise<RunResult> {
    const end = await outcomes.get(c.name)!;
    if (end.kind === 'refused') assert.fail(`our loader refuses the file:\n${end.problems}`);
    if (end.kind === 'failed')
      assert.fail(`the run failed: ${end.error instanceof WorkflowFailedError ? (end.error.cause?.message ?? end.error.message) : String(end.error)}`);
    return end.result;
  }

  describe('files Pallet runs: same step_outputs and final_output, key order included', () => {
    for (const c of cases.filter((c) => !c.ours && !isPalletError(c.pallet))) {
      it(c.name, async () => {
        const pallet = c.pallet as RunResult;
        const ours = await completed(c);
        assert.deepStrictEqual(outcome(ours), outcome(pallet));
        assert.deepStrictEqual(keyOrder(outcome(ours)), keyOrder(outcome(pallet)), 'same values, but the keys are in another order');
        assert.deepStrictEqual(ours.initial_input, pallet.initial_input);
      });
    }
  });

  describe('files Pallet refuses or fails on: our loader refuses them or the run fails', () => {
    for (const c of cases.filter((c) => !c.ours && isPalletError(c.pallet))) {
      it(c.name, async () => {
        const end = await outcomes.get(c.name)!;
        if (end.kind === 'refused') return;
        assert.equal(end.kind, 'failed', 'our loader accepts the file and the run succeeds');
        assert.ok(
          (end as { error: unknown }).error instanceof WorkflowFailedError,
          `expected a failed workflow, got ${String((end as { error: unknown }).error)}`,
        );
      });
    }
  });

  describe('where we deliberately differ from Pallet (fixed Pallet bugs), as documented', () => {
    for (const c of cases.filter((c) => c.ours)) {
      const ours = c.ours!;
      it(`${c.name}: ${ours.fix}`, async () => {
        if (ours.refused !== undefined) {
          const end = await outcomes.get(c.name)!;
          assert.equal(end.kind, 'refused');
          assert.match((end as { problems: string }).problems, new RegExp(ours.refused));
          return;
        }
        const result = await completed(c);
        if (!isPalletError(c.pallet)) assert.notDeepStrictEqual(outcome(result), outcome(c.pallet), 'we give what Pallet gives: the fix is not in effect');
        assert.deepStrictEqual(outcome(result), outcome(ours));
        assert.deepStrictEqual(keyOrder(outcome(result)), keyOrder(outcome(ours)));
      });
    }
  });
});
