// Lint's warnings: valid files that likely do not do what their author means.
import assert from 'node:assert/strict';
import { adviseDefinition } from '../../../src/dsl/advice';
import { parseDefinition } from '../../../src/dsl/loader';
import { formatPath } from '../../../src/dsl/validate';

function advise(steps: string) {
  const parsed = parseDefinition(`metadata: { id: a, name: A, version: "1" }\nsteps:\n${steps}`, 'a.yaml');
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.map((p) => p.message).join('\n'));
  return adviseDefinition(parsed.definition).map((p) => `${formatPath(p.path)}: ${p.message}`);
}

describe('dsl/advice', () => {
  it('warns that `outputs` is ignored directly inside a conditional or switch branch, not elsewhere', () => {
    assert.deepEqual(
      advise(`  - { id: top, skill: k, outputs: kept }
  - id: c
    step_type: conditional
    condition: x
    branches:
      if_true:
        - { id: t, skill: k, outputs: lost }
        - id: p
          step_type: parallel
          branches: { steps: [{ id: inner, skill: k, outputs: kept_too }] }
`),
      [
        'steps[1].branches.if_true[0].outputs: step "t": `outputs` is ignored directly inside a conditional or switch branch (as in Pallet): the bare result is stored',
      ],
    );
  });

  it('says nothing about a run too long for one history: it continues as new', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `  - { id: s${i}, skill: k }`).join('\n');
    assert.deepEqual(advise(many(9000)), []);
  });

  it('warns about error_handling keys it does not read', () => {
    const parsed = parseDefinition(
      'metadata: { id: a, name: A, version: "1" }\nerror_handling: { retry: 2, on_failure: notify }\nsteps:\n  - { id: s, skill: k }\n',
      'a.yaml',
    );
    assert.ok(parsed.ok);
    assert.deepEqual(
      adviseDefinition(parsed.definition).map((p) => `${formatPath(p.path)}: ${p.message}`),
      ['error_handling.on_failure: error_handling.on_failure is not read (error_handling holds retry and continue_on_error, the defaults of every call step)'],
    );
  });
});
