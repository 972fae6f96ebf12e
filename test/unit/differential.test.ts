// Differential test: every workflow file in test/differential/ runs through our loader and
// step walker (plain in-memory effects, the fake agent of test/differential/README.md) and
// must give what Pallet's own Python engine gave for it (test/differential/expected/, made
// by `npm run fixtures:pallet`): the same step_outputs and final_output, key order included.
// Where Pallet raised, we must refuse the file or fail the run. Where we fix a Pallet
// template bug, we must differ from Pallet and give the documented result instead.
// The same cases run on Temporal in test/integration/differential.test.ts.
import assert from 'node:assert/strict';
import { formatProblem, parseDefinition } from '../../src/dsl/loader';
import type { RunResult } from '../../src/dsl/types';
import { WorkflowRun, type StepEffects } from '../../src/workflows/walker';
import { isPalletError, keyOrder, loadCases, loadChildren, outcome, type DiffCase } from '../differential/cases';
import { EXECUTE_WORKFLOW, fakeAnswer } from '../differential/fake-agent';

/** Values cross a wire (JSON-RPC, Temporal payloads) as JSON: no shared references survive. */
const wire = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

const children = loadChildren();

async function runChild(workflowId: unknown, input: unknown): Promise<unknown> {
  const definition = typeof workflowId === 'string' ? children.get(workflowId) : undefined;
  if (!definition) throw new Error(`no workflow with metadata.id ${JSON.stringify(workflowId)} in cases/children`);
  return wire(await new WorkflowRun(definition, input as Record<string, unknown>, effects).run());
}

const effects: StepEffects = {
  async callAgent({ step, inputs }) {
    const answer = await fakeAnswer(step.skill ?? '', wire(inputs), runChild);
    if (answer.kind === 'error') throw new Error(answer.message);
    return wire(answer.value);
  },
  async runWorkflow({ workflowId, input }) {
    const answer = await fakeAnswer(EXECUTE_WORKFLOW, { workflow_id: workflowId, input: wire(input) }, runChild);
    if (answer.kind === 'error') throw new Error(answer.message);
    return answer.value;
  },
  all: (tasks) => Promise.all(tasks.map((task) => task())),
  describeError: (err) => (err instanceof Error ? err.message : String(err)),
};

/** Loads the case with our loader and runs it; throws the loader's problems as one error. */
async function runCase(c: DiffCase): Promise<RunResult> {
  const parsed = parseDefinition(c.text, c.file);
  if (!parsed.ok) throw new Error(`our loader refuses the file:\n${parsed.problems.map(formatProblem).join('\n')}`);
  return wire(await new WorkflowRun(parsed.definition, wire(c.input), effects).run());
}

function assertSameOrder(actual: unknown, expected: unknown, what: string): void {
  assert.deepStrictEqual(keyOrder(actual), keyOrder(expected), `${what}: same values, but the keys are in another order`);
}

const cases = loadCases();

describe('differential: our engine against Pallet’s own (test/differential)', function () {
  this.timeout(20_000);

  it('has cases of every kind', () => {
    assert.ok(cases.filter((c) => !c.ours && !isPalletError(c.pallet)).length >= 20);
    assert.ok(cases.some((c) => isPalletError(c.pallet)));
    assert.ok(cases.some((c) => c.ours));
  });

  describe('files Pallet runs: same step_outputs and final_output, key order included', () => {
    for (const c of cases.filter((c) => !c.ours && !isPalletError(c.pallet))) {
      it(c.name, async () => {
        const pallet = c.pallet as RunResult;
        const ours = await runCase(c);
        assert.deepStrictEqual(outcome(ours), outcome(pallet));
        assertSameOrder(outcome(ours), outcome(pallet), c.name);
        const header = (r: RunResult) => ({
          workflow_id: r.workflow_id,
          workflow_name: r.workflow_name,
          workflow_version: r.workflow_version,
          initial_input: r.initial_input,
        });
        assert.deepStrictEqual(header(ours), header(pallet));
        assert.deepStrictEqual(Object.keys(ours), ['workflow_id', 'workflow_name', 'workflow_version', 'initial_input', 'step_outputs', 'final_output']);
      });
    }
  });

  describe('files Pallet refuses or fails on: our loader refuses them or the run fails', () => {
    for (const c of cases.filter((c) => !c.ours && isPalletError(c.pallet))) {
      const { error_type: type, error } = c.pallet as { error_type: string; error: string };
      it(`${c.name} (Pallet: ${type}: ${error.split('\n')[0].slice(0, 80)})`, async () => {
        const parsed = parseDefinition(c.text, c.file);
        if (!parsed.ok) return;
        await assert.rejects(new WorkflowRun(parsed.definition, wire(c.input), effects).run(), Error, 'our loader accepts the file and the run succeeds');
      });
    }
  });

  describe('where we deliberately differ from Pallet (fixed Pallet bugs), as documented', () => {
    for (const c of cases.filter((c) => c.ours)) {
      const ours = c.ours!;
      it(`${c.name}: ${ours.fix}`, async () => {
        if (ours.refused !== undefined) {
          const parsed = parseDefinition(c.text, c.file);
          assert.ok(!parsed.ok, 'our loader accepts the file');
          assert.match(parsed.problems.map(formatProblem).join('\n'), new RegExp(ours.refused));
          return;
        }
        const result = await runCase(c);
        if (!isPalletError(c.pallet)) assert.notDeepStrictEqual(outcome(result), outcome(c.pallet), 'we give what Pallet gives: the fix is not in effect');
        assert.deepStrictEqual(outcome(result), outcome(ours));
        assertSameOrder(outcome(result), outcome(ours), c.name);
      });
    }
  });
});
