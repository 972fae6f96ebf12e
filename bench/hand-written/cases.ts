// The cases the interpreter is measured on, each as a Pallet definition for the interpreter
// and as the hand-written workflow's input; a worker serving both; one timed run of either
// (server-recorded start to close), and what its history holds.
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { RegistryClaimStore } from '../../src/claims';
import { DataStore, RegistryClient } from '../../src/registry';
import type { PalletWorkflowInput } from '../../src/contract';
import type { RunResult, Step, WorkflowDefinition } from '../../src/dsl/types';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { DirectoryStore } from '../../src/sources/definitions';
import { BENCH_SKILL } from '../env';
import type { BenchEnv } from '../suite';
import type { ChainInput, FanOutInput, MapInput } from './workflows';

const ROOT = path.resolve(__dirname, '..', '..');
/** A step's timeout as Pallet's default (300 s): the hand-written workflow uses the same options. */
const TIMEOUT = 300;
const X = 'bench input';

export interface BenchCase {
  name: string;
  /** The interpreter's input. */
  ours: PalletWorkflowInput;
  /** The hand-written workflow's type and input. */
  reference: { workflow: 'handWrittenChain' | 'handWrittenFanOut' | 'handWrittenMap'; input: ChainInput | FanOutInput | MapInput };
}

function metadata(id: string): WorkflowDefinition['metadata'] {
  return { id, name: id, version: '1', description: 'npm run bench', tags: [] };
}

const call = (id: string, x: string): Step => ({ id, step_type: 'sequential', skill: BENCH_SKILL, inputs: { x }, timeout: TIMEOUT }) as Step;

/** n sequential steps, each passing the previous one's `x` on. */
export function chainCase(n: number): BenchCase {
  const meta = metadata(`bench-chain-${n}`);
  const steps = Array.from({ length: n }, (_, i) => call(`s${i}`, i === 0 ? '{{ workflow.input.x }}' : `{{ steps.s${i - 1}.outputs.x }}`));
  return {
    name: `${n} sequential step${n === 1 ? '' : 's'}`,
    ours: { definition: { metadata: meta, steps }, input: { x: X } },
    reference: { workflow: 'handWrittenChain', input: { workflow: meta, skill: BENCH_SKILL, x: X, steps: n } },
  };
}

/** One parallel step of n branches. */
export function fanOutCase(n: number): BenchCase {
  const meta = metadata(`bench-parallel-${n}`);
  const branches = Array.from({ length: n }, (_, i) => call(`b${i}`, '{{ workflow.input.x }}'));
  const step = { id: 'fan', step_type: 'parallel', branches: { steps: branches } } as Step;
  return {
    name: `${n}-wide parallel`,
    ours: { definition: { metadata: meta, steps: [step] }, input: { x: X } },
    reference: { workflow: 'handWrittenFanOut', input: { workflow: meta, skill: BENCH_SKILL, x: X, width: n } },
  };
}

/** A for_each of n items at `concurrency`. */
export function mapCase(n: number, concurrency: number): BenchCase {
  const meta = metadata(`bench-for-each-${n}`);
  const items = Array.from({ length: n }, (_, i) => `item-${i}`);
  const step = { id: 'map', step_type: 'for_each', items: '{{ workflow.input.items }}', concurrency, steps: [call('work', '{{ item }}')] } as Step;
  return {
    name: `for_each of ${n} at concurrency ${concurrency}`,
    ours: { definition: { metadata: meta, steps: [step] }, input: { x: X, items } },
    reference: { workflow: 'handWrittenMap', input: { workflow: meta, skill: BENCH_SKILL, x: X, items, concurrency } },
  };
}

let bundle: Promise<{ code: string }> | undefined;

/**
 * A worker running the interpreter and the hand-written workflows, with the real activities,
 * against the instant agent; with the bench registry as its data store (as a deployment with a
 * registry has), where a long run keeps the state it carries across generations.
 */
export async function benchWorker(env: BenchEnv, taskQueue: string): Promise<Worker> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: new DefaultLogger('WARN') });
  return Worker.create({
    connection: env.connection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await bundle,
    activities: createActivities({
      directory: new AgentDirectory([new UrlAgentSource([env.agentUrl])], 60_000),
      definitions: new DirectoryStore(path.join(ROOT, 'pallet-workflows')),
      ...(env.registry
        ? {
            claims: new RegistryClaimStore(
              new DataStore(new RegistryClient({ registry: env.registry, timeoutMs: 60_000, maxBlobBytes: 256 * 1024 * 1024 }), 'pallet-data'),
            ),
          }
        : {}),
    }),
  });
}

export interface TimedRun {
  /** Server-recorded: the first run's start to the last run's close, in seconds. */
  seconds: number;
  result: RunResult;
  handle: WorkflowHandleWithFirstExecutionRunId;
}

let counter = 0;

/** Runs one side of a case to completion; the time is the server's, not this process's. */
export async function timedRun(client: Client, taskQueue: string, c: BenchCase, side: 'ours' | 'reference'): Promise<TimedRun> {
  const workflowId = `bench-${side}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
  const handle =
    side === 'ours'
      ? await client.workflow.start('palletWorkflow', { taskQueue, workflowId, args: [c.ours] })
      : await client.workflow.start(c.reference.workflow, { taskQueue, workflowId, args: [c.reference.input] });
  const result = (await handle.result()) as RunResult;
  const [first, last] = await Promise.all([client.workflow.getHandle(workflowId, handle.firstExecutionRunId).describe(), handle.describe()]);
  if (!last.closeTime) throw new Error(`${workflowId} has no close time`);
  return { seconds: (last.closeTime.getTime() - first.startTime.getTime()) / 1000, result, handle };
}

export interface HistoryFigures {
  events: number;
  bytes: number;
  workflowTasks: number;
  activities: number;
  /** Seconds the worker spent in workflow tasks (each task's started to completed event). */
  taskSeconds: number;
  /** Events by type, e.g. { ACTIVITY_TASK_SCHEDULED: 100, ... }. */
  byType: Record<string, number>;
}

/** What one run's history holds (the first run of a chain that continued as new). */
export async function historyFigures(handle: WorkflowHandleWithFirstExecutionRunId): Promise<HistoryFigures> {
  // The handle start() returned follows the chain to its latest run: ask for the first by its id.
  const history = await handle.client.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
  const byType: Record<string, number> = {};
  let taskMs = 0;
  let taskStarted: number | undefined;
  for (const event of history.events ?? []) {
    const at = Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
    if (event.workflowTaskStartedEventAttributes) taskStarted = at;
    if (event.workflowTaskCompletedEventAttributes && taskStarted !== undefined) taskMs += at - taskStarted;
    const name = (temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '');
    byType[name] = (byType[name] ?? 0) + 1;
  }
  return {
    events: history.events?.length ?? 0,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    workflowTasks: byType.WORKFLOW_TASK_COMPLETED ?? 0,
    activities: byType.ACTIVITY_TASK_SCHEDULED ?? 0,
    taskSeconds: taskMs / 1000,
    byType,
  };
}

/** "6 tasks, 309 events, 305 KB" */
export function describeHistory(h: HistoryFigures): string {
  return `${h.workflowTasks} workflow tasks (${h.taskSeconds.toFixed(3)} s in them), ${h.events} events, ${(h.bytes / 1024).toFixed(0)} KB`;
}
