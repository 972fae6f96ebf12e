// The app writer of the code-generation example: Pallet's CLI files for a run of
// code-generation-v1 (or of smart-router-v1 when it routed there, the steps being in the
// child workflow's result): plan.json (step "plan"), main.py (the code of step "build") and
// review.json (step "test", or "review"), each when that step ran. `pallet run` writes
// metadata.json and result.json itself. Use it with
//   pallet run --app-writer lib/examples/code-generation/app-files.js ...
// or PALLET_APP_WRITER=... (npm start sets it).
import type { AppWriterContext } from '../../src/app-files';
import type { RunResult } from '../../src/dsl/types';

export async function writeAppFiles(result: RunResult, ctx: AppWriterContext): Promise<void> {
  const plan = findStepOutput(result, 'plan');
  if (plan !== undefined) await ctx.write('plan.json', JSON.stringify(unwrap(plan), null, 2) + '\n');
  const build = unwrap(findStepOutput(result, 'build')) as { code?: unknown } | undefined;
  if (build && typeof build.code === 'string') await ctx.write('main.py', build.code.endsWith('\n') ? build.code : `${build.code}\n`);
  const review = findStepOutput(result, 'test') ?? findStepOutput(result, 'review');
  if (review !== undefined) await ctx.write('review.json', JSON.stringify(unwrap(review), null, 2) + '\n');
}

/** Stored output of a step anywhere in a result, including nested (child workflow) results. */
export function findStepOutput(result: unknown, stepId: string): unknown {
  const r = result as Partial<RunResult> | null;
  if (!r || typeof r !== 'object' || !r.step_outputs) return undefined;
  if (stepId in r.step_outputs) return r.step_outputs[stepId].outputs;
  for (const { outputs } of Object.values(r.step_outputs)) {
    // A child workflow's result is stored as is, or under the step's `outputs` name.
    const nested = findStepOutput(outputs, stepId) ?? findStepOutput(unwrap(outputs), stepId);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

/** `{ result: R }` (a step with `outputs: result`) → R; anything else as it is. */
export function unwrap(stored: unknown): unknown {
  if (stored && typeof stored === 'object' && !Array.isArray(stored)) {
    const keys = Object.keys(stored);
    if (keys.length === 1) return (stored as Record<string, unknown>)[keys[0]];
  }
  return stored;
}
