// switch steps: Python str() of the value, default, empty branches, patching.
import assert from 'node:assert/strict';
import { EMPTY_BRANCH_RUNS_DEFAULT } from '../../../../src/workflows/patches';
import { echo, run, steps } from '../harness';

const SWITCH = `
  - id: sw
    step_type: switch
    condition: "{{ workflow.input.v }}"
    branches:
      "6": [{ id: six, skill: s, inputs: { reply: six } }]
      "True": [{ id: yep, skill: s, inputs: { reply: yep } }]
      "None": [{ id: none, skill: s, inputs: { reply: none } }]
      "['a', 1]": [{ id: list, skill: s, inputs: { reply: list } }]
      empty: []
      default: [{ id: other, skill: s, inputs: { reply: other }, outputs: ignored }]
`;

describe('steps/switch', () => {
  const cases: [unknown, string][] = [
    [6, 'six'],
    ['6', 'six'],
    [true, 'yep'],
    [null, 'none'],
    [['a', 1], 'list'],
    [6.5, 'other'],
    ['nothing', 'other'],
  ];
  for (const [v, expected] of cases) {
    it(`${JSON.stringify(v)} runs ${expected}`, async () => {
      const { result } = await run(steps(SWITCH), { s: echo }, { v });
      assert.deepEqual(Object.keys(result.step_outputs), [expected]);
      // `outputs` is ignored directly inside a branch, as in Pallet.
      assert.equal(result.final_output, expected);
    });
  }

  it('a matching but empty branch falls back to default (Pallet: `branches.get(v) or branches.get("default")`)', async () => {
    const { result, walker } = await run(steps(SWITCH), { s: echo }, { v: 'empty' });
    assert.equal(result.final_output, 'other');
    assert.equal(walker.state.containers.sw.branch, 'default');
  });

  it('runs recorded before that fix keep running the empty branch when replayed', async () => {
    const { result } = await run(steps(SWITCH), { s: echo }, { v: 'empty' }, { effects: { patched: (id) => id !== EMPTY_BRANCH_RUNS_DEFAULT } });
    assert.deepEqual(result.step_outputs, {});
  });

  it('no match and no default runs nothing', async () => {
    const { result, walker } = await run(steps('  - { id: sw, step_type: switch, condition: x, branches: { y: [{ id: t, skill: s }] } }'), { s: echo });
    assert.deepEqual(result.final_output, {});
    assert.equal(walker.state.containers.sw.branch, null);
  });
});
