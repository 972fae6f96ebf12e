// Runs a real worker (bundled interpreter + real activities) against the shared dev
// server for the length of a test body.
import { Worker } from '@temporalio/worker';
import type { WorkflowHandleWithFirstExecutionRunId as WorkflowHandle } from '@temporalio/client';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import type { ClaimStore } from '../../src/claims';
import type { RunResult, WorkflowDefinition } from '../../src/dsl/types';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore, type DefinitionStore } from '../../src/sources/definitions';
import type { PalletWorkflowInput } from '../../src/contract';
import { palletWorkflow } from '../../src/workflows';
import { ROOT, temporalEnv, workflowBundle } from './temporal';

export interface WorkerOptions {
  agentUrls: string[];
  /** Overrides the directory built from agentUrls (e.g. registry discovery). */
  directory?: AgentDirectory;
  definitions?: DefinitionStore;
  maxResultBytes?: number;
  /** A data store for large values and large run state (docs/large-data.md). */
  claims?: ClaimStore;
}

let queueCounter = 0;

export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++queueCounter}`;
}

export async function createTestWorker(opts: WorkerOptions & { taskQueue?: string }): Promise<{ worker: Worker; taskQueue: string }> {
  const env = await temporalEnv();
  const taskQueue = opts.taskQueue ?? uniqueId('pallet-test');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      directory: opts.directory ?? new AgentDirectory([new UrlAgentSource(opts.agentUrls)], 60_000),
      definitions: opts.definitions ?? new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
      maxResultBytes: opts.maxResultBytes,
      ...(opts.claims ? { claims: opts.claims } : {}),
    }),
  });
  return { worker, taskQueue };
}

/** Starts a run of `definition` and lets `body` drive it while a worker serves the queue. */
export async function withWorker<T>(
  opts: WorkerOptions,
  body: (ctx: { start(args: PalletWorkflowInput, id?: string): Promise<WorkflowHandle>; taskQueue: string }) => Promise<T>,
): Promise<T> {
  const env = await temporalEnv();
  const { worker, taskQueue } = await createTestWorker(opts);
  const start = (args: PalletWorkflowInput, id?: string) =>
    env.client.workflow.start(palletWorkflow, { taskQueue, workflowId: id ?? uniqueId('run'), args: [args] });
  return worker.runUntil(body({ start, taskQueue }));
}

/** Runs a definition to completion and returns its result (rejects when the run fails). */
export async function runDefinition(opts: WorkerOptions, definition: WorkflowDefinition, input: Record<string, unknown> = {}): Promise<RunResult> {
  return withWorker(opts, async ({ start }) => (await start({ definition, input })).result() as Promise<RunResult>);
}
