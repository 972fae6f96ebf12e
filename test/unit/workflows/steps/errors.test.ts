// Error handling of call steps: retry settings (the step's over error_handling's),
// continue_on_error, on_error fallback steps, and compensation when the run fails.
import assert from 'node:assert/strict';
import { def, run, steps, type Skills } from '../harness';

const boom = () => {
  throw new Error('agent exploded');
};
const say = (inputs: Record<string, unknown>) => inputs.say;

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.fail('the run did not fail');
}

describe('steps/errors (error handling)', () => {
  it('continue_on_error: the error is the step output and the run goes on', async () => {
    const { result, log } = await run(
      steps(`
  - { id: flaky, skill: boom, continue_on_error: true, outputs: named }
  - { id: after, skill: say, inputs: { say: "{{ steps.flaky.outputs.error.message }}" } }
`),
      { boom, say },
    );
    // The error value is stored as it is, not under `outputs`, so it reads the same everywhere.
    assert.deepEqual(result.step_outputs.flaky.outputs, { error: { message: 'agent exploded', type: null, step: 'flaky' } });
    assert.equal(result.final_output, 'agent exploded');
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['flaky', 'after'],
    );
  });

  it("error_handling.continue_on_error is every call step's default; a step's own false wins", async () => {
    const definition = def(`metadata: { id: w, name: W, version: "1" }
error_handling: { continue_on_error: true }
steps:
  - { id: a, skill: boom }
  - { id: b, skill: boom, continue_on_error: false }
  - { id: c, skill: say, inputs: { say: never } }
`);
    const err = await failure(run(definition, { boom, say }));
    assert.match(err.message, /^Step "b" failed \(skill boom\): agent exploded/);
  });

  it('on_error: the fallback steps run, read the error, and the last one gives the step its result', async () => {
    const { result, log, walker } = await run(
      steps(`
  - id: primary
    skill: boom
    outputs: answer
    on_error:
      - { id: cheaper, skill: say, inputs: { say: "fallback after: {{ steps.primary.outputs.error.message }}" } }
  - { id: use, skill: say, inputs: { say: "{{ steps.primary.outputs.answer }}" } }
`),
      { boom, say },
    );
    assert.deepEqual(
      log.calls.map((c) => c.step),
      ['primary', 'cheaper', 'use'],
    );
    assert.deepEqual(Object.keys(result.step_outputs), ['cheaper', 'primary', 'use']);
    assert.deepEqual(result.step_outputs.primary.outputs, { answer: 'fallback after: agent exploded' });
    assert.equal(result.final_output, 'fallback after: agent exploded');
    assert.deepEqual(walker.state.recovered, { primary: 'on_error' });
  });

  it('on_error whose fallback fails too: the run fails at the fallback, inside the step', async () => {
    const err = await failure(
      run(
        steps(`
  - id: primary
    skill: boom
    on_error: [ { id: second, skill: boom } ]
`),
        { boom },
      ),
    );
    assert.match(err.message, /^Step "second" \(in "primary"\) failed \(skill boom\): agent exploded/);
  });

  it('compensate: when the run fails, the finished steps are undone latest first, and the failure says so', async () => {
    const skills: Skills = { say, boom };
    const { log, err, walker } = await (async () => {
      const definition = steps(`
  - id: book_flight
    skill: say
    inputs: { say: F1 }
    compensate: [ { id: cancel_flight, skill: say, inputs: { say: "cancel {{ steps.book_flight.outputs }}" } } ]
  - id: book_hotel
    skill: say
    inputs: { say: H1 }
    compensate: [ { id: cancel_hotel, skill: say, inputs: { say: "cancel {{ steps.book_hotel.outputs }}" } } ]
  - { id: pay, skill: boom }
`);
      const { WorkflowRun } = await import('../../../../src/workflows/walker');
      const { effects, newLog } = await import('../harness');
      const l = newLog();
      const w = new WorkflowRun(definition, {}, effects(skills, l));
      return { log: l, err: await failure(w.run()), walker: w };
    })();
    assert.deepEqual(
      log.calls.map((c) => [c.step, c.inputs]),
      [
        ['book_flight', { say: 'F1' }],
        ['book_hotel', { say: 'H1' }],
        ['pay', {}],
        ['cancel_hotel', { say: 'cancel H1' }],
        ['cancel_flight', { say: 'cancel F1' }],
      ],
    );
    assert.match(err.message, /^Step "pay" failed \(skill boom\): agent exploded \(compensated book_hotel, book_flight\)$/);
    assert.deepEqual(walker.state.compensated, ['book_hotel', 'book_flight']);
  });

  it('a compensation that fails does not stop the others; the failure names it', async () => {
    const definition = steps(`
  - { id: a, skill: say, inputs: { say: A }, compensate: [ { id: undo_a, skill: say, inputs: { say: undone } } ] }
  - { id: b, skill: say, inputs: { say: B }, compensate: [ { id: undo_b, skill: boom } ] }
  - { id: c, skill: boom }
`);
    const err = await failure(run(definition, { say, boom }));
    assert.match(err.message, /\(compensated a; compensation failed for b \(Step "undo_b" \(in "b"\) failed \(skill boom\): agent exploded\)\)$/);
  });

  it("retry settings: the step's own over error_handling's, one by one, reach the agent call", async () => {
    const definition = def(`metadata: { id: w, name: W, version: "1" }
error_handling: { retry: { max_attempts: 5, initial_interval: 2s, retry_on: [AgentSkillError] } }
steps:
  - { id: a, skill: say, inputs: { say: x }, retry: { max_attempts: 2, deadline: 1m } }
  - { id: b, skill: say, inputs: { say: y } }
`);
    const seen: unknown[] = [];
    await run(definition, { say }, {}, { effects: { callAgent: async ({ step, retry }) => (seen.push([step.id, retry]), 'ok') } });
    assert.deepEqual(seen, [
      ['a', { max_attempts: 2, initial_interval: 2000, retry_on: ['AgentSkillError'], deadline: 60000 }],
      ['b', { max_attempts: 5, initial_interval: 2000, retry_on: ['AgentSkillError'] }],
    ]);
    // A file without any retry setting calls without any: the activity's defaults hold.
    const plain: unknown[] = [];
    await run(steps(`  - { id: a, skill: say }\n`), { say }, {}, { effects: { callAgent: async (call) => (plain.push('retry' in call), 'ok') } });
    assert.deepEqual(plain, [false]);
  });

  it('a cancelled run is not recovered by on_error or continue_on_error', async () => {
    const cancelled = new Error('cancelled');
    const err = await failure(
      run(
        steps(`  - { id: a, skill: boom, continue_on_error: true, on_error: [ { id: b, skill: boom } ] }\n`),
        {
          boom: () => {
            throw cancelled;
          },
        },
        {},
        {
          effects: { isCancellation: (e) => e === cancelled },
        },
      ),
    );
    assert.match(err.message, /^Step "a" failed/);
  });
});
