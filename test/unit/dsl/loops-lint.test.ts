// What lint says about loops: `item` and `index` only inside a loop body, body steps not read
// from outside, a repeat body may read any of its steps (the previous iteration's).
import assert from 'node:assert/strict';
import { formatProblem, parseDefinition } from '../../../src/dsl/loader';

function problems(steps: string): string[] {
  const parsed = parseDefinition(`metadata: { id: t, name: T, version: "1" }\nsteps:\n${steps}`, 'loops.yaml');
  return parsed.ok ? [] : parsed.problems.map((p) => formatProblem(p).replace(/^loops\.yaml:\d+:\d+: /, ''));
}

describe('dsl: loops (for_each, repeat)', () => {
  it('accepts a for_each and a repeat whose steps read what they may', () => {
    assert.deepEqual(
      problems(`  - id: each
    step_type: for_each
    items: [1, 2]
    steps:
      - { id: a, skill: k, inputs: { x: "{{ item }}", i: "\${{ index + 1 }}" } }
      - { id: b, skill: k, inputs: { y: "{{ steps.a.outputs }}" } }
  - id: again
    step_type: repeat
    until: "\${{ steps.check.outputs.ok }}"
    max_iterations: 3
    steps:
      - { id: improve, skill: k, inputs: { feedback: "{{ steps.check.outputs.note }}", round: "{{ index }}" } }
      - { id: check, skill: k, inputs: { text: "{{ steps.improve.outputs }}" } }
  - { id: after, skill: k, inputs: { all: "{{ steps.each.outputs }}", last: "{{ steps.again.outputs.result }}" } }
`),
      [],
    );
  });

  it('refuses item and index outside a loop, body steps read from outside, and bad settings', () => {
    assert.deepEqual(
      problems(`  - { id: a, skill: k, inputs: { x: "{{ item.name }}" } }
  - { id: each, step_type: for_each, items: [1], concurrency: 0, steps: [ { id: inner, skill: k } ] }
  - { id: r, step_type: repeat, until: "{{ steps.inner.outputs }}", steps: [ { id: body, skill: k } ] }
  - { id: z, skill: k, inputs: { y: "{{ steps.body.outputs }}" } }
`),
      [
        'step "a": template "{{ item.name }}" reads the current item of a for_each step, and this step is not inside one',
        'steps[1].concurrency: concurrency must be 1 or more',
        'repeat step "r" needs max_iterations (it must end)',
        'step "r": template "{{ steps.inner.outputs }}" refers to step "inner", but that step cannot have run before this one (it comes later, or is a parallel sibling or in another branch)',
        'step "z": template "{{ steps.body.outputs }}" refers to step "body", but that step cannot have run before this one (it comes later, or is a parallel sibling or in another branch)',
      ],
    );
  });
});
