// for_each: runs its `steps` once per item of `items` (a list, or a template or expression
// giving one), at most `concurrency` items at a time. Each iteration sees `item` and `index`
// and its own steps' outputs; the step's output is the list of each iteration's last step
// output, in item order (the map-reduce pattern: a later step reduces the list). The body
// steps are not recorded in the run's result; their for_each step is, once all are done.
import { FailureTypes } from '../../contract';
import type { ForEachStep } from '../../dsl/types';
import { resolveOrFail, stepFailure } from './failures';
import { inside, storedOutput, type Scope, type StepRunner, type Walker } from './types';

export const runForEach: StepRunner<ForEachStep> = async (walker, step, scope) => {
  // Finished in an earlier generation (or run): its list stands; the iterations are not walked again.
  const reused = walker.completedOutput(step.id);
  if (reused) {
    walker.finish(step.id, reused.stored, scope);
    return;
  }
  const items = resolveItems(walker, step, scope);
  const last = step.steps[step.steps.length - 1];
  walker.noteContainer(step.id, { step_type: 'for_each', steps: step.steps.map((s) => s.id), items: items.length });
  const results: unknown[] = new Array<unknown>(items.length).fill(null);
  let next = 0;
  // Each lane takes the next item when it is done with one: items start in order.
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      const iteration = walker.iteration(step.id, index, items[index]);
      await iteration.runSteps(step.steps, inside(scope, `${step.id}[${index}]`, { inBranch: false, record: () => undefined }));
      results[index] = iteration.outputOf(last.id) ?? null;
    }
  };
  const lanes = Math.min(step.concurrency, items.length);
  await walker.effects.all(Array.from({ length: lanes }, () => lane));
  walker.finish(step.id, storedOutput(step, scope, results), scope);
};

/** The items: a list written out, or what a template or expression gives, which must be a list. */
function resolveItems(walker: Walker, step: ForEachStep, scope: Scope): unknown[] {
  const value = resolveOrFail(step, scope, 'items', () => walker.resolve(step.items));
  if (Array.isArray(value)) return value;
  const got = value === null ? 'null' : typeof value === 'object' ? 'a map' : `a ${typeof value}`;
  const reason = `items must be a list, and ${typeof step.items === 'string' ? `${JSON.stringify(step.items)} gave` : 'it is'} ${got}`;
  throw stepFailure(step, scope, reason, { type: FailureTypes.invalidInput });
}
