// The step walker across step types: the live state, reuse of finished steps (`pallet
// retry`), and Pallet's result shape for nested containers. Each step type has its own
// tests in ./steps; the same walker runs on Temporal in the integration tests.
import assert from 'node:assert/strict';
import { echo, run, steps } from './harness';

describe('step walker', () => {
  it('reuses the outputs of steps an earlier run finished instead of calling them again', async () => {
    const { result, log, walker } = await run(
      steps(`
  - { id: plan, skill: s, outputs: result }
  - id: fan
    step_type: parallel
    branches:
      steps:
        - { id: p1, skill: s, inputs: { plan: "{{ steps.plan.outputs.result }}" } }
        - { id: p2, skill: s }
  - { id: last, skill: s, inputs: { p1: "{{ steps.p1.outputs }}" } }
`),
      { s: (i) => ({ fresh: i }) },
      {},
      { resume: { completed: { plan: { result: 'old plan' }, p1: 'old p1' } } },
    );
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['p2', 'last'],
    );
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'p1', 'p2', 'last']);
    assert.deepEqual(result.step_outputs.plan.outputs, { result: 'old plan' });
    assert.deepEqual(log.calls[1].inputs, { p1: 'old p1' });
    assert.deepEqual(walker.state.reused, ['plan', 'p1']);
  });

  it('nested containers record only agent steps, in the order Pallet would', async () => {
    const { result, walker } = await run(
      steps(`
  - id: outer
    step_type: conditional
    condition: go
    branches:
      if_true:
        - id: fan
          step_type: parallel
          branches:
            steps:
              - { id: a, skill: s, inputs: { reply: a }, outputs: named }
              - id: inner
                step_type: switch
                condition: "{{ workflow.input.k }}"
                branches: { x: [{ id: b, skill: s, inputs: { reply: b } }, { id: c, skill: s, inputs: { reply: c } }] }
        - { id: after, skill: s, inputs: { reply: "{{ steps.c.outputs }}" } }
`),
      { s: echo },
      { k: 'x' },
    );
    // Steps directly in a parallel step keep `outputs` even inside a branch; `after` reads c.
    assert.deepEqual(result.step_outputs, { a: { outputs: { named: 'a' } }, b: { outputs: 'b' }, c: { outputs: 'c' }, after: { outputs: 'c' } });
    assert.equal(result.final_output, 'c');
    assert.deepEqual(Object.keys(walker.state.containers), ['outer', 'fan', 'inner']);
    assert.equal(walker.state.status, 'completed');
    assert.deepEqual(walker.state.running, []);
  });

  it('the live state says what runs, and why a run failed', async () => {
    const seen: string[][] = [];
    await assert.rejects(
      run(steps('  - { id: a, skill: s }\n  - { id: b, skill: nope }'), { s: echo }, {}, { effects: { onChange: (s) => seen.push([...s.running]) } }).then((r) => r.walker),
      (err: Error) => /Step "b" failed/.test(err.message),
    );
    assert.ok(seen.some((r) => r.includes('a')));
    assert.ok(seen.some((r) => r.includes('b')));
  });
});
