// Prometheus metrics for the worker: the SDK's Runtime serves Temporal's own metrics at
// http://<PALLET_METRICS_ADDRESS>/metrics, and Pallet's custom metrics (SDK metric API: the
// workflow's and the activity's metricMeter) go through the same endpoint.
import { Runtime } from '@temporalio/worker';

/** Installs the process's SDK Runtime with a Prometheus endpoint. Once per process, before any connection. */
export function installMetricsRuntime(bindAddress: string): void {
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
  } catch (err) {
    throw new Error(
      `cannot serve metrics on ${bindAddress}: the Temporal SDK runtime of this process is already set up (${(err as Error).message}); run the worker in its own process`,
    );
  }
}
