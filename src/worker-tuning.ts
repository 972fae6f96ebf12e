// The worker's performance settings (docs/configuration.md, docs/benchmarks.md#throughput):
// the prebuilt workflow bundle, and the SDK's cache and slot sizes when an operator sets them.
// Each variable left unset keeps the SDK's default; bad values are refused naming the variable.
import type { WorkerOptions } from '@temporalio/worker';
import type { Env } from './settings';
import { findPrebuiltBundle } from './workflow-bundle';

/** Numeric knobs: variable, the WorkerOptions field it sets, and its smallest allowed value. */
const COUNTS = [
  // Workflows kept in memory between tasks (sticky cache): fewer replays, more memory.
  ['PALLET_MAX_CACHED_WORKFLOWS', 'maxCachedWorkflows', 0],
  // Workflow tasks run at once (the SDK's default is 40).
  ['PALLET_MAX_WORKFLOW_TASKS', 'maxConcurrentWorkflowTaskExecutions', 2],
  // Agent calls and definition loads run at once (default 100).
  ['PALLET_MAX_ACTIVITIES', 'maxConcurrentActivityTaskExecutions', 1],
] as const;

/** The WorkerOptions these variables set, to spread into Worker.create's options last. */
export function workerTuning(env: Env = process.env): Partial<WorkerOptions> {
  const options: Partial<WorkerOptions> = {};
  for (const [name, field, min] of COUNTS) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, not "${env[name]}"`);
    options[field] = n;
  }
  const pollers = env.PALLET_WORKFLOW_POLLERS?.trim();
  if (pollers) {
    if (/^auto$/i.test(pollers)) options.workflowTaskPollerBehavior = { type: 'autoscaling' };
    else {
      const n = Number(pollers);
      if (!Number.isInteger(n) || n < 2) throw new Error(`PALLET_WORKFLOW_POLLERS must be "auto" or a whole number of at least 2, not "${pollers}"`);
      options.workflowTaskPollerBehavior = { type: 'simple-maximum', maximum: n };
    }
  }
  // The bundle made at build time, unless turned off; the one with the tracing interceptors
  // when tracing is on (src/telemetry/config.ts: OTEL_EXPORTER_OTLP_ENDPOINT set). None usable: the SDK bundles workflowsPath at start.
  if (!/^(0|false|no|off)$/i.test(env.PALLET_PREBUILT_BUNDLE?.trim() ?? '')) {
    const found = findPrebuiltBundle(!!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
    if ('bundle' in found) {
      options.workflowBundle = { codePath: found.bundle.codePath };
      // Cleared: the SDK warns when it is given both.
      options.workflowsPath = undefined;
    }
  }
  return options;
}
