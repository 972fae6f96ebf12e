// switch: the condition's value, written as Python's str() writes it (6 → "6", true →
// "True"), names the branch to run; a missing or empty branch falls back to `default`, and
// without a default nothing runs (Pallet: `branches.get(value) or branches.get("default")`).
// A `${{ }}` expression's value is written the same way (true → "True").
import { pythonStr } from '../../dsl/templates';
import type { SwitchStep } from '../../dsl/types';
import { EMPTY_BRANCH_RUNS_DEFAULT } from '../patches';
import { resolveCondition } from './conditional';
import { inside, type StepRunner, type Walker } from './types';

export const runSwitch: StepRunner<SwitchStep> = async (walker, step, scope) => {
  const value = resolveCondition(walker, step, scope);
  const branch = chooseBranch(walker, step.branches, pythonStr(value));
  const steps = branch === null ? [] : step.branches[branch];
  walker.noteContainer(step.id, { step_type: 'switch', value, branch, steps: steps.map((s) => s.id) });
  await walker.runSteps(steps, inside(scope, step.id, { inBranch: true }));
};

function chooseBranch(walker: Walker, branches: SwitchStep['branches'], key: string): string | null {
  const has = (name: string) => Object.prototype.hasOwnProperty.call(branches, name);
  if (!has(key)) return has('default') ? 'default' : null;
  if (branches[key].length > 0 || !has('default')) return key;
  // An empty match with a default: runs recorded before the fix ran the empty branch.
  return walker.effects.patched(EMPTY_BRANCH_RUNS_DEFAULT) ? 'default' : key;
}
