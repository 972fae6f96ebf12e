// The step walker across step types: the live state, reuse of finished steps (`pallet
// retry`), and Pallet's result shape for nested containers. Each step type has its own
// tests in ./steps; the same walker runs on Temporal in the integration tests.
import assert from 'node:assert/strict';
import { stepKey } from '../../../src/contract';
import type { SequentialStep } from '../../../src/dsl/types';
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

  it('takes an offered result only when the step and its resolved inputs are unchanged (retry with a changed input)', async () => {
    const definition = steps(`
  - { id: plan, skill: s, inputs: { reply: "{{ workflow.input.topic }}" }, outputs: result }
  - { id: fixed, skill: s, inputs: { reply: constant } }
  - { id: last, skill: s, inputs: { reply: "{{ steps.plan.outputs.result }}!" } }
`);
    const first = await run(definition, { s: echo }, { topic: 'cats' });
    // What `pallet retry` offers: each finished step's bare result and its key.
    const offers = Object.fromEntries(
      definition.steps.map((step) => {
        const call = first.log.calls.find((c) => c.step === step.id)!;
        return [step.id, { result: (call.inputs as { reply: unknown }).reply, key: stepKey(step as SequentialStep, call.inputs as Record<string, unknown>) }];
      }),
    );
    const same = await run(definition, { s: echo }, { topic: 'cats' }, { resume: { offers } });
    assert.deepEqual(same.log.calls, [], 'nothing changed: every step reused');
    assert.deepEqual(same.result, first.result, 'the same result; a reused one stored under `outputs` as a fresh one');
    assert.deepEqual(same.walker.state.reused, ['plan', 'fixed', 'last']);

    const changed = await run(definition, { s: echo }, { topic: 'dogs' }, { resume: { offers } });
    // plan's input changed; fixed did not; last's resolved input depends on plan's new result.
    assert.deepEqual(
      changed.log.calls.map((c) => c.step),
      ['plan', 'last'],
    );
    assert.deepEqual(changed.walker.state.reused, ['fixed']);
    assert.deepEqual(changed.walker.state.rerun, ['plan', 'last']);
    assert.equal(changed.result.final_output, 'dogs!');

    const renamed = steps(`
  - { id: plan, skill: s, inputs: { reply: "{{ workflow.input.topic }}" }, outputs: renamed }
  - { id: fixed, skill: other, inputs: { reply: constant } }
  - { id: last, skill: s, inputs: { reply: "{{ steps.plan.outputs.renamed }}!" } }
`);
    const edited = await run(renamed, { s: echo, other: echo }, { topic: 'cats' }, { resume: { offers } });
    // A changed `outputs` or skill is a changed definition; last resolves to the same input.
    assert.deepEqual(
      edited.log.calls.map((c) => c.step),
      ['plan', 'fixed'],
    );
    assert.deepEqual(edited.walker.state.reused, ['last']);
  });

  it('the step key ignores key order, the timeout and the description, and sees everything else', () => {
    const step = { id: 'a', skill: 's', inputs: { x: '{{ workflow.input.x }}' }, outputs: 'o', timeout: 30 };
    const key = stepKey(step, { x: 1, y: [1, { b: 2, a: 1 }] });
    assert.equal(stepKey({ ...step, timeout: 90, description: 'd', inputs: {} }, { y: [1, { a: 1, b: 2 }], x: 1 }), key);
    assert.notEqual(stepKey(step, { x: 2, y: [1, { b: 2, a: 1 }] }), key);
    assert.notEqual(stepKey(step, { x: 1, y: [{ b: 2, a: 1 }, 1] }), key);
    assert.notEqual(stepKey({ ...step, outputs: 'p' }, { x: 1, y: [1, { b: 2, a: 1 }] }), key);
    // execute_workflow: only the workflow and its input count.
    const child = { id: 'c', skill: 'execute_workflow', inputs: {} };
    assert.equal(stepKey(child, { workflow_id: 'w-v1', input: { a: 1 }, note: 'x' }), stepKey(child, { workflow_id: 'w-v1', input: { a: 1 } }));
    assert.notEqual(stepKey(child, { workflow_id: 'w-v2', input: { a: 1 } }), stepKey(child, { workflow_id: 'w-v1', input: { a: 1 } }));
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
      run(steps('  - { id: a, skill: s }\n  - { id: b, skill: nope }'), { s: echo }, {}, { effects: { onChange: (s) => seen.push([...s.running]) } }).then(
        (r) => r.walker,
      ),
      (err: Error) => /Step "b" failed/.test(err.message),
    );
    assert.ok(seen.some((r) => r.includes('a')));
    assert.ok(seen.some((r) => r.includes('b')));
  });
});
