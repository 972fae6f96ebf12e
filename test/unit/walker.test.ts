// The step walker with in-memory effects: ordering, stored outputs, reuse of finished
// steps, nested workflows and failure messages. (The same walker runs on Temporal in the
// integration tests.)
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { parseDefinition } from '../../src/dsl/loader';
import type { WorkflowDefinition } from '../../src/dsl/types';
import { WorkflowRun, type StepEffects, type StepFailureDetails } from '../../src/workflows/walker';

function def(yaml: string): WorkflowDefinition {
  const parsed = parseDefinition(yaml, 'walker.yaml');
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.definition;
}

interface Log {
  calls: { step: string; skill?: string; inputs: unknown }[];
  children: { step: string; workflowId: string; input: unknown }[];
}

function effects(skills: Record<string, (inputs: Record<string, unknown>) => unknown>, log: Log): StepEffects {
  return {
    async callAgent({ step, inputs }) {
      log.calls.push({ step: step.id, skill: step.skill, inputs });
      await Promise.resolve();
      const fn = skills[step.skill ?? ''];
      if (!fn) throw new Error(`no agent offers skill "${step.skill}"`);
      return fn(inputs);
    },
    async runWorkflow({ step, workflowId, input }) {
      log.children.push({ step: step.id, workflowId, input });
      return { workflow_id: workflowId, final_output: 'child done' };
    },
    all: (tasks) => Promise.all(tasks.map((t) => t())),
    describeError: (err) => (err instanceof Error ? err.message : String(err)),
  };
}

const newLog = (): Log => ({ calls: [], children: [] });

describe('step walker', () => {
  it('stores outputs under the `outputs` name everywhere, including inside branches', async () => {
    const log = newLog();
    const run = new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps:
  - { id: a, skill: s, inputs: { x: 1 }, outputs: result }
  - id: c
    step_type: conditional
    condition: "{{ steps.a.outputs.result.ok }}"
    branches:
      if_true: [{ id: b, skill: s, inputs: { from_a: "{{ steps.a.outputs.result.ok }}" }, outputs: named }]
`),
      {},
      effects({ s: (i) => ({ ok: true, got: i }) }, log),
    );
    const result = await run.run();
    assert.deepEqual(result.step_outputs.a.outputs, { result: { ok: true, got: { x: 1 } } });
    assert.deepEqual(result.step_outputs.b.outputs, { named: { ok: true, got: { from_a: true } } });
    // A conditional stores what its branch's last step stored.
    assert.deepEqual(result.step_outputs.c.outputs, result.step_outputs.b.outputs);
    assert.deepEqual(result.final_output, result.step_outputs.c.outputs);
    assert.equal(run.state.status, 'completed');
    assert.deepEqual(run.state.finished, ['a', 'b', 'c']);
  });

  it('a condition that is not a template is a literal string, so "false" is true (as in Pallet)', async () => {
    const log = newLog();
    const result = await new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps:
  - id: c
    step_type: conditional
    condition: "false"
    branches:
      if_true: [{ id: t, skill: s }]
`),
      {},
      effects({ s: () => 'ran' }, log),
    ).run();
    assert.equal(result.final_output, 'ran');
  });

  it('a missing branch runs nothing and stores null', async () => {
    const result = await new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps:
  - id: c
    step_type: conditional
    condition: "{{ workflow.input.no }}"
    branches:
      if_true: [{ id: t, skill: s }]
`),
      {},
      effects({ s: () => 'ran' }, newLog()),
    ).run();
    assert.deepEqual(Object.keys(result.step_outputs), ['c']);
    assert.equal(result.final_output, null);
  });

  it('runs execute_workflow steps as nested workflows with resolved input', async () => {
    const log = newLog();
    const result = await new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps:
  - id: nested
    skill: execute_workflow
    inputs: { workflow_id: code-generation-v1, input: "{{ workflow.input }}" }
`),
      { requirements: 'x' },
      effects({}, log),
    ).run();
    assert.deepEqual(log.children, [{ step: 'nested', workflowId: 'code-generation-v1', input: { requirements: 'x' } }]);
    assert.deepEqual(log.calls, []);
    assert.deepEqual(result.final_output, { workflow_id: 'code-generation-v1', final_output: 'child done' });
  });

  it('execute_workflow without a workflow_id fails the step clearly', async () => {
    const run = new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps: [{ id: nested, skill: execute_workflow, inputs: { workflow_id: "{{ workflow.input.missing }}" } }]
`),
      {},
      effects({}, newLog()),
    );
    await assert.rejects(run.run(), /Step "nested" failed \(skill execute_workflow\): input "workflow_id" must name a workflow/);
    assert.equal(run.state.status, 'failed');
    assert.match(run.state.error ?? '', /workflow_id/);
  });

  it('reuses the outputs of steps an earlier run finished instead of calling them again', async () => {
    const log = newLog();
    const result = await new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps:
  - { id: plan, skill: s, outputs: result }
  - id: fan
    step_type: parallel
    branches:
      steps:
        - { id: p1, skill: s, inputs: { plan: "{{ steps.plan.outputs.result }}" } }
        - { id: p2, skill: s }
  - { id: last, skill: s, inputs: { p1: "{{ steps.p1.outputs }}" } }
`),
      {},
      effects({ s: (i) => ({ fresh: i }) }, log),
      { plan: { result: 'old plan' }, p1: 'old p1' },
    ).run();
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['p2', 'last'],
    );
    assert.deepEqual(result.step_outputs.plan.outputs, { result: 'old plan' });
    assert.deepEqual(log.calls[1].inputs, { p1: 'old p1' });
  });

  it('a failed step becomes a non-retryable StepFailed naming the step, its skill and its containers', async () => {
    const run = new WorkflowRun(
      def(`
metadata: { id: w, name: W, version: "1" }
steps:
  - id: outer
    step_type: switch
    condition: go
    branches:
      go:
        - id: fan
          step_type: parallel
          branches:
            steps: [{ id: broken, skill: missing_skill }]
`),
      {},
      effects({}, newLog()),
    );
    const err = await run.run().then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'StepFailed');
    assert.equal(err.nonRetryable, true);
    assert.equal(err.message, 'Step "broken" (in "outer" > "fan") failed (skill missing_skill): no agent offers skill "missing_skill"');
    const details = err.details?.[0] as StepFailureDetails;
    assert.deepEqual(details, { stepId: 'broken', skill: 'missing_skill', within: ['outer', 'fan'], reason: 'no agent offers skill "missing_skill"' });
    assert.deepEqual(run.state.running, []);
  });
});
