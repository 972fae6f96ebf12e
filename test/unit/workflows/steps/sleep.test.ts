// sleep steps: a duration or an until time (literal or templated) reaches the timer effect;
// nothing is recorded; a templated value that is not a duration or time fails the step.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { SleepCall } from '../../../../src/workflows/steps/types';
import { echo, run, steps } from '../harness';

function sleeper() {
  const calls: { step: string; ms?: number; until?: number }[] = [];
  return { calls, sleep: async ({ step, ms, until }: SleepCall) => void calls.push({ step: step.id, ms, until }) };
}

describe('steps/sleep', () => {
  it('waits for its duration, records nothing, and the run goes on', async () => {
    const { calls, sleep } = sleeper();
    const { result, walker } = await run(
      steps(`
  - { id: a, skill: s, inputs: { reply: 1 } }
  - { id: pause, step_type: sleep, duration: 2h }
  - { id: b, skill: s, inputs: { reply: 2 } }
  - { id: short, step_type: sleep, duration: 1.5 }
  - { id: mixed, step_type: sleep, duration: 1h30m }`),
      { s: echo },
      {},
      { effects: { sleep } },
    );
    assert.deepEqual(calls, [
      { step: 'pause', ms: 7_200_000, until: undefined },
      { step: 'short', ms: 1500, until: undefined },
      { step: 'mixed', ms: 5_400_000, until: undefined },
    ]);
    assert.deepEqual(result.step_outputs, { a: { outputs: 1 }, b: { outputs: 2 } });
    assert.equal(result.final_output, 2);
    assert.deepEqual(walker.state.finished, ['a', 'b']);
  });

  it('resolves templates and expressions in duration and until when it runs', async () => {
    const { calls, sleep } = sleeper();
    await run(
      steps(`
  - { id: d, step_type: sleep, duration: "{{ workflow.input.delay }}" }
  - { id: e, step_type: sleep, duration: "\${{ string(workflow.input.minutes) + 'm' }}" }
  - { id: u, step_type: sleep, until: "{{ workflow.input.at }}" }`),
      {},
      { delay: '90s', minutes: 3, at: '2030-01-31T09:00:00+01:00' },
      { effects: { sleep } },
    );
    assert.deepEqual(calls, [
      { step: 'd', ms: 90_000, until: undefined },
      { step: 'e', ms: 180_000, until: undefined },
      { step: 'u', ms: undefined, until: Date.parse('2030-01-31T08:00:00Z') },
    ]);
  });

  it('a templated value that is not a duration fails the step, not retried, naming it', async () => {
    const { sleep } = sleeper();
    await assert.rejects(
      run(steps('  - { id: d, step_type: sleep, duration: "{{ workflow.input.delay }}" }'), {}, { delay: 'soon' }, { effects: { sleep } }),
      (err: Error) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'StepFailed');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /^Step "d" failed \(sleep\): duration is "soon", not a number of seconds or text such as "90s"/);
        return true;
      },
    );
    await assert.rejects(
      run(steps('  - { id: u, step_type: sleep, until: "{{ workflow.input.at }}" }'), {}, { at: 'tomorrow' }, { effects: { sleep } }),
      /Step "u" failed \(sleep\): until is "tomorrow", not an RFC 3339 time/,
    );
  });

  it('an interpreter without timers says so', async () => {
    await assert.rejects(run(steps('  - { id: d, step_type: sleep, duration: 1 }'), {}), /Step "d" failed \(sleep\): this interpreter has no timers/);
  });
});

describe('steps/sleep across continue-as-new', () => {
  it('a sleep an earlier generation finished does not sleep again; a new one is noted as passed', async () => {
    const slept: string[] = [];
    const definition = steps(`  - { id: nap, step_type: sleep, duration: 1h }\n  - { id: later, step_type: sleep, duration: 2s }\n`);
    const { walker } = await run(definition, {}, {}, { resume: { passed: ['nap'] }, effects: { sleep: async ({ step }) => void slept.push(step.id) } });
    assert.deepEqual(slept, ['later']);
    assert.deepEqual(walker.state.passed, ['later']);
  });
});
