// The Pallet worker: polls the task queue, runs the interpreter workflow and the activities
// (agent calls, definition loads). Shuts down gracefully on SIGINT/SIGTERM (the SDK's
// default shutdown signals): in-flight activities finish or are handed back, nothing is lost.
import { NativeConnection, Worker } from '@temporalio/worker';
import { services as processServices, type Services } from './services';
import { workerTuning } from './worker-tuning';

export interface WorkerSetup {
  worker: Worker;
  connection: NativeConnection;
}

export async function createWorker(services: Services = processServices()): Promise<WorkerSetup> {
  const { connection: connectionOptions, namespace } = services.settings.temporal;
  const connection = await NativeConnection.connect(connectionOptions).catch((err: Error) => {
    // One line with the address and the fix, not the transport's own error dump.
    throw new Error(
      `cannot reach Temporal at ${connectionOptions.address} (${transportReason(err.message)}); start a dev server (npm start) or set TEMPORAL_ADDRESS`,
    );
  });
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: services.settings.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: services.activities(),
    ...workerTuning(),
  });
  return { worker, connection };
}

/** The gist of the native transport's error (`tonic::transport::Error(...ConnectionRefused...)`). */
function transportReason(message: string): string {
  if (/connection ?refused/i.test(message)) return 'connection refused';
  if (/dns|resolve|lookup/i.test(message)) return 'unknown host';
  if (/deadline|timed? ?out/i.test(message)) return 'no answer';
  return message.split('\n')[0].slice(0, 120);
}

export async function runWorker(services: Services = processServices()): Promise<void> {
  const { worker, connection } = await createWorker(services);
  const { settings } = services;
  console.log(
    `pallet worker: polling task queue "${settings.taskQueue}" in namespace "${settings.temporal.namespace}" at ${settings.temporal.connection.address} (Ctrl-C to stop)`,
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
