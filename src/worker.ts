// The Pallet worker: polls the task queue, runs the interpreter workflow and the activities
// (agent calls, definition loads). Shuts down gracefully on SIGINT/SIGTERM (the SDK's
// default shutdown signals): in-flight activities finish or are handed back, nothing is lost.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { createAgentDirectory, createDefinitionStore, loadConfig, temporalConnectConfig, type Env } from './config';

export interface WorkerSetup {
  worker: Worker;
  connection: NativeConnection;
}

/** Options shared by the real worker and the tests' workers. */
export function workerOptions(env: Env = process.env): Omit<WorkerOptions, 'connection' | 'namespace' | 'workflowsPath' | 'workflowBundle'> {
  const config = loadConfig(env);
  return {
    taskQueue: config.taskQueue,
    activities: createActivities({
      directory: createAgentDirectory(config, env, (warning) => console.warn(`pallet worker: warning: ${warning}`)),
      definitions: createDefinitionStore(config, env),
    }),
  };
}

export async function createWorker(env: Env = process.env): Promise<WorkerSetup> {
  const { connection: connectionOptions, namespace } = temporalConnectConfig(env);
  const connection = await NativeConnection.connect(connectionOptions);
  const worker = await Worker.create({
    connection,
    namespace,
    workflowsPath: require.resolve('./workflows'),
    ...workerOptions(env),
  });
  return { worker, connection };
}

export async function runWorker(env: Env = process.env): Promise<void> {
  const { worker, connection } = await createWorker(env);
  const { taskQueue } = loadConfig(env);
  const { connection: target, namespace } = temporalConnectConfig(env);
  console.log(`pallet worker: polling task queue "${taskQueue}" in namespace "${namespace}" at ${target.address} (Ctrl-C to stop)`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
