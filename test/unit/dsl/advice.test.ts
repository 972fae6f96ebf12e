// Lint's warnings: valid files that likely do not do what their author means, or cannot
// finish in one Temporal history.
import assert from 'node:assert/strict';
import { adviseDefinition, HISTORY_EVENT_LIMIT } from '../../../src/dsl/advice';
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
      ['steps[1].branches.if_true[0].outputs: step "t": `outputs` is ignored directly inside a conditional or switch branch (as in Pallet): the bare result is stored'],
    );
  });

  it(`warns when a run cannot fit one history (${HISTORY_EVENT_LIMIT} events), counting the largest branch of each choice`, () => {
    const many = (n: number, indent = '  ') => Array.from({ length: n }, (_, i) => `${indent}- { id: s${i}, skill: k }`).join('\n');
    assert.deepEqual(advise(many(7000)), []);
    const [warning] = advise(many(8000));
    assert.match(warning, /^steps: a run of this workflow records about 48012 history events, and Temporal ends a run at 51200 \(about 8531 agent steps\)/);
    const choice = `  - id: sw\n    step_type: switch\n    condition: x\n    branches:\n      small:\n${many(1, '        ')}\n      big:\n${many(8000, '        ').replace(/id: s/g, 'id: b')}\n`;
    assert.equal(advise(choice).length, 1);
  });
});
