// parallel steps: concurrency, isolation from siblings, Pallet's recording order.
import assert from 'node:assert/strict';
import { echo, run, steps } from '../harness';

const FAN = `
  - { id: first, skill: s, inputs: { reply: 1 } }
  - id: fan
    step_type: parallel
    branches:
      steps:
        - { id: slow, skill: slow, inputs: { seen: "{{ steps.first.outputs }}" }, outputs: named }
        - { id: fast, skill: s, inputs: { reply: fast } }
`;

describe('steps/parallel', () => {
  it('runs its steps at once and records them in declaration order once all finished; the container records nothing', async () => {
    const order: string[] = [];
    const slow = async (i: Record<string, unknown>) => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('slow');
      return i;
    };
    const fast = (i: Record<string, unknown>) => (order.push('fast'), echo(i));
    const { result, walker } = await run(steps(FAN), { slow, s: fast });
    assert.deepEqual(order, ['fast', 'fast', 'slow']);
    assert.deepEqual(Object.keys(result.step_outputs), ['first', 'slow', 'fast']);
    assert.deepEqual(result.step_outputs.slow.outputs, { named: { seen: 1 } });
    // The last declared branch step is the final output, whatever finished last.
    assert.equal(result.final_output, 'fast');
    // The live state keeps the order steps finished in, and what the container held.
    assert.deepEqual(walker.state.finished, ['first', 'fast', 'slow']);
    assert.deepEqual(walker.state.containers.fan, { step_type: 'parallel', steps: ['slow', 'fast'] });
  });

  it('one failing step fails the parallel step', async () => {
    await assert.rejects(run(steps(FAN), { s: echo }), /Step "slow" \(in "fan"\) failed \(skill slow\)/);
  });
});
