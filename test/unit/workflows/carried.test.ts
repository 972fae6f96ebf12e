// A new generation takes the steps earlier ones finished (QUICK_CARRIED_STEPS): the same
// result, state and compensations as walking them as steps, and no agent called again.
import assert from 'node:assert/strict';
import { QUICK_CARRIED_STEPS } from '../../../src/workflows/patches';
import { echo, run, steps } from './harness';

const definition = steps(`
  - { id: a, step_type: sequential, skill: echo, inputs: { x: "{{ workflow.input.x }}" }, outputs: r, compensate: [{ id: undo_a, step_type: sequential, skill: echo, inputs: { of: "{{ steps.a.outputs.r }}" } }] }
  - id: both
    step_type: parallel
    branches:
      steps:
        - { id: b, step_type: sequential, skill: echo, inputs: { x: "{{ steps.a.outputs.r }}" } }
        - { id: c, step_type: sequential, skill: echo, inputs: { x: c } }
  - { id: d, step_type: sequential, skill: echo, inputs: { x: "{{ steps.b.outputs }}" } }
  - { id: e, step_type: sequential, skill: boom, inputs: {} }
`);
const skills = { echo, boom: () => Promise.reject(new Error('boom')) };

describe('carried steps (continue-as-new)', () => {
  for (const quick of [true, false]) {
    it(`${quick ? 'takes them at once' : 'walks them as steps in runs recorded before'}, with the same outputs, state and compensation`, async () => {
      const patches: string[] = [];
      const carried = { a: { r: { got: { x: 1 } } }, b: { got: { x: 'from a' } } };
      const stored = { segments: [{ $pallet_claim: 'sha256:00', bytes: 1 } as never], index: { c: 0 } };
      const called: unknown[] = [];
      const failed = await run(
        definition,
        { ...skills, echo: (inputs) => (called.push(inputs), echo(inputs)) },
        { x: 1 },
        {
          resume: { carried, stored },
          effects: { patched: (id) => (patches.push(id), quick) },
        },
      ).then(
        () => assert.fail('step e fails'),
        (err: Error) => err,
      );
      assert.match(failed.message, /boom/);
      assert.deepEqual(patches, [QUICK_CARRIED_STEPS]);
      // d, then a's compensation (e failed): a, b, c are carried.
      assert.deepEqual(called, [{ x: { got: { x: 'from a' } } }, { of: { got: { x: 1 } } }]);
      const fresh = await run(definition, { ...skills, boom: echo }, { x: 1 }, { resume: { carried, stored }, effects: { patched: () => quick } });
      assert.deepEqual(
        fresh.log.calls.map((c) => c.step),
        ['d', 'e'],
      );
      assert.deepEqual(Object.keys(fresh.result.step_outputs), ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(fresh.result.step_outputs.c.outputs, { $pallet_state: stored.segments[0], step: 'c' });
      assert.deepEqual(fresh.walker.state.finished, ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(fresh.walker.state.reused, []);
    });
  }

  it('asks for the patch only when something is carried', async () => {
    const patches: string[] = [];
    await run(definition, { ...skills, boom: echo }, { x: 1 }, { effects: { patched: (id) => (patches.push(id), true) } });
    assert.ok(!patches.includes(QUICK_CARRIED_STEPS));
  });
});
