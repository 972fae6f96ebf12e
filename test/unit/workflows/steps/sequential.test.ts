// sequential steps: inputs, `outputs` naming, execute_workflow and its pinning, failures.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { StepFailureDetails } from '../../../../src/contract';
import { echo, run, steps } from '../harness';

describe('steps/sequential', () => {
  it('stores the result under `outputs` when the step names it, the bare result otherwise', async () => {
    const { result, log } = await run(
      steps(`
  - { id: a, skill: s, inputs: { x: 1 }, outputs: result }
  - { id: b, skill: s, inputs: { from_a: "{{ steps.a.outputs.result.got.x }}" } }
`),
      { s: echo },
    );
    assert.deepEqual(result.step_outputs, { a: { outputs: { result: { got: { x: 1 } } } }, b: { outputs: { got: { from_a: 1 } } } });
    assert.deepEqual(result.final_output, { got: { from_a: 1 } });
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['a', 'b'],
    );
  });

  it('runs execute_workflow as a nested workflow with its resolved input', async () => {
    const { result, log } = await run(
      steps(`
  - id: nested
    skill: execute_workflow
    inputs: { workflow_id: code-generation-v1, input: "{{ workflow.input }}" }
`),
      {},
      { requirements: 'x' },
    );
    assert.deepEqual(log.children, [{ step: 'nested', workflowId: 'code-generation-v1', input: { requirements: 'x' }, digest: undefined }]);
    assert.deepEqual(log.calls, []);
    assert.deepEqual(result.final_output, { workflow_id: 'code-generation-v1', final_output: 'child done' });
  });

  it('pins a child workflow once and runs that pinned definition; an earlier pin is asked for again', async () => {
    const asked: (string | undefined)[] = [];
    const source = { ref: 'child-v1', digest: 'sha256:' + 'a'.repeat(64) };
    const pinWorkflow = async ({ digest }: { digest?: string }) => {
      asked.push(digest);
      return { definition: steps('  - { id: x, skill: s }'), source };
    };
    const wf = steps('  - { id: nested, skill: execute_workflow, inputs: { workflow_id: child-v1 } }');
    const first = await run(wf, {}, {}, { effects: { pinWorkflow } });
    assert.deepEqual(
      first.log.children.map((c) => c.digest),
      [source.digest],
    );
    assert.deepEqual(first.walker.state.pinned, { nested: source });
    // A retry hands the earlier pins back: the same digest is asked for.
    await run(wf, {}, {}, { effects: { pinWorkflow }, resume: { pinned: first.walker.state.pinned } });
    assert.deepEqual(asked, [undefined, source.digest]);
  });

  it('execute_workflow without a workflow_id fails the step clearly', async () => {
    await assert.rejects(
      run(steps('  - { id: nested, skill: execute_workflow, inputs: { workflow_id: "{{ workflow.input.missing }}" } }'), {}),
      /Step "nested" failed \(skill execute_workflow\): input "workflow_id" must name a workflow/,
    );
  });

  it('a failed step becomes a non-retryable StepFailed naming the step, its skill and its containers', async () => {
    const err = await run(
      steps(`
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
    ).then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'StepFailed');
    assert.equal(err.nonRetryable, true);
    assert.equal(err.message, 'Step "broken" (in "outer" > "fan") failed (skill missing_skill): no agent offers skill "missing_skill"');
    const details = err.details?.[0] as StepFailureDetails;
    assert.deepEqual(details, { stepId: 'broken', skill: 'missing_skill', within: ['outer', 'fan'], reason: 'no agent offers skill "missing_skill"' });
  });
});
