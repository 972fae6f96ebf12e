// Benchmark: the interpreter's own cost per step as runs grow (issue: long runs got slower
// per step). Runs N-step sequential definitions through the step walker with in-memory
// agents and the same progress updates the workflow makes, and prints the time per step.
// A flat ms/step column means no per-step work grows with the run so far.
//   npx ts-node --transpile-only bench/steps.ts [N ...]
import type { WorkflowDefinition } from '../src/dsl/types';
import { progressText } from '../src/workflows/progress';
import { WorkflowRun } from '../src/workflows/walker';

function sequential(n: number): WorkflowDefinition {
  const steps = Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    step_type: 'sequential' as const,
    skill: 'echo',
    inputs: i === 0 ? { x: '{{ workflow.input.x }}' } : { x: `{{ steps.s${i - 1}.outputs.x }}` },
    timeout: 300,
  }));
  return { metadata: { id: 'bench', name: 'Bench', version: '1', description: '', tags: [] }, steps };
}

async function time(n: number): Promise<number> {
  let details = '';
  const run = new WorkflowRun(
    sequential(n),
    { x: 1 },
    {
      callAgent: async ({ inputs }) => inputs,
      runWorkflow: async () => null,
      all: (tasks) => Promise.all(tasks.map((t) => t())),
      describeError: (e) => String(e),
      onChange: (state) => (details = progressText(state)),
    },
  );
  const started = process.hrtime.bigint();
  await run.run();
  if (!details) throw new Error('no progress');
  return Number(process.hrtime.bigint() - started) / 1e6;
}

(async () => {
  const sizes = process.argv.slice(2).map(Number).filter(Boolean);
  console.log('steps    total ms   ms/step');
  for (const n of sizes.length ? sizes : [1000, 5000, 10000]) {
    const ms = await time(n);
    console.log(`${String(n).padStart(6)} ${ms.toFixed(0).padStart(10)} ${(ms / n).toFixed(4).padStart(9)}`);
  }
})();
