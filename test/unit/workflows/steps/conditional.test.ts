// conditional steps: Python truthiness, missing branches, `outputs` ignored inside branches.
import assert from 'node:assert/strict';
import { echo, run, steps } from '../harness';

const COND = (condition: string) => `
  - { id: before, skill: s, inputs: { reply: before } }
  - id: c
    step_type: conditional
    condition: ${JSON.stringify(condition)}
    branches:
      if_true: [{ id: t, skill: s, inputs: { reply: yep }, outputs: named }]
`;

describe('steps/conditional', () => {
  it('a truthy condition runs if_true; `outputs` is ignored inside the branch, as in Pallet', async () => {
    const { result, walker } = await run(steps(COND('{{ workflow.input.flag }}')), { s: echo }, { flag: [0] });
    assert.deepEqual(result.step_outputs, { before: { outputs: 'before' }, t: { outputs: 'yep' } });
    assert.equal(result.final_output, 'yep');
    assert.deepEqual(walker.state.containers.c, { step_type: 'conditional', value: [0], branch: 'if_true', steps: ['t'] });
  });

  for (const falsy of [null, false, 0, '', [], {}]) {
    it(`${JSON.stringify(falsy)} is false: the missing if_false runs nothing and the previous output stays final`, async () => {
      const { result, walker } = await run(steps(COND('{{ workflow.input.flag }}')), { s: echo }, { flag: falsy });
      assert.deepEqual(Object.keys(result.step_outputs), ['before']);
      assert.equal(result.final_output, 'before');
      assert.equal(walker.state.containers.c.branch, null);
    });
  }

  it('a condition that is not a template is a literal string, so "false" is true (as in Pallet)', async () => {
    const { result } = await run(steps(COND('false')), { s: echo });
    assert.equal(result.final_output, 'yep');
  });

  it('a run in which no step ran has {} as its final output (as Pallet)', async () => {
    const { result } = await run(
      steps('  - { id: c, step_type: conditional, condition: "", branches: { if_true: [{ id: t, skill: s }] } }'.replace('""', '"{{ workflow.input.no }}"')),
      { s: echo },
    );
    assert.deepEqual(result.step_outputs, {});
    assert.deepEqual(result.final_output, {});
  });
});
