// The Pallet worker: polls the task queue, runs the interpreter workflow and the activities
// (agent calls, definition loads). Shuts down gracefully on SIGINT/SIGTERM (the SDK's
// default shutdown signals): in-flight activities finish or are handed back, nothing is lost.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { services as processServices, type Services } from './services';
import { telemetryConfig, type TelemetryConfig } from './telemetry/config';
import { installMetricsRuntime } from './telemetry/metrics';
import { startTracing, type Tracing } from './telemetry/tracing';
import { workerTuning } from './worker-tuning';

export interface WorkerSetup {
  worker: Worker;
  connection: NativeConnection;
  /** Set when tracing is on: flush and unregister it after the worker stops. */
  tracing?: Tracing;
}

export async function createWorker(services: Services = processServices(), telemetry: TelemetryConfig = telemetryConfig()): Promise<WorkerSetup> {
  const { connection: connectionOptions, namespace } = services.settings.temporal;
  // The SDK runtime serving /metrics must exist before the first connection creates the default one.
  if (telemetry.metricsAddress) installMetricsRuntime(telemetry.metricsAddress);
  const connection = await NativeConnection.connect(connectionOptions).catch((err: Error) => {
    // One line with the address and the fix, not the transport's own error dump.
    throw new Error(
      `cannot reach Temporal at ${connectionOptions.address} (${transportReason(err.message)}); start a dev server (npm start) or set TEMPORAL_ADDRESS`,
    );
  });
  const tuning = workerTuning();
  const tracing = telemetry.tracing ? startTracing({ serviceName: telemetry.tracing.serviceName }) : undefined;
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: services.settings.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: services.activities(),
    ...(tracing && tracedOptions(tracing, tuning)),
    ...tuning,
  }).catch(async (err: unknown) => {
    await tracing?.shutdown();
    throw err;
  });
  return { worker, connection, ...(tracing ? { tracing } : {}) };
}

/** Tracing's worker options; a prebuilt bundle already has the workflow interceptors (the SDK warns when given them again). */
function tracedOptions(tracing: Tracing, tuning: Partial<WorkerOptions>): Partial<WorkerOptions> {
  const { interceptors, sinks } = tracing.workerOptions;
  return { sinks, interceptors: tuning.workflowBundle ? { ...interceptors, workflowModules: [] } : interceptors };
}

/** The gist of the native transport's error (`tonic::transport::Error(...ConnectionRefused...)`). */
function transportReason(message: string): string {
  if (/connection ?refused/i.test(message)) return 'connection refused';
  if (/dns|resolve|lookup/i.test(message)) return 'unknown host';
  if (/deadline|timed? ?out/i.test(message)) return 'no answer';
  return message.split('\n')[0].slice(0, 120);
}

export async function runWorker(services: Services = processServices()): Promise<void> {
  const telemetry = telemetryConfig();
  const { worker, connection, tracing } = await createWorker(services, telemetry);
  const { settings } = services;
  console.log(
    `pallet worker: polling task queue "${settings.taskQueue}" in namespace "${settings.temporal.namespace}" at ${settings.temporal.connection.address} (Ctrl-C to stop)`,
  );
  if (telemetry.metricsAddress) console.log(`pallet worker: metrics at http://${telemetry.metricsAddress}/metrics`);
  if (telemetry.tracing) console.log(`pallet worker: traces to ${telemetry.tracing.endpoint} as service "${telemetry.tracing.serviceName}"`);
  try {
    await worker.run();
  } finally {
    await tracing?.shutdown();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
