// The reference: the same agent calls written by hand, as a Temporal user would following
// Temporal's TypeScript samples (proxyActivities, a loop, Promise.all, continueAsNew). It calls
// the same callAgent activity with the same timeouts, heartbeat timeout and retry policy as
// the interpreter gives a step of `timeout: 300`, and returns the same result (Pallet's shape),
// so a run of each can be compared call for call. Sandbox code.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { PalletActivities } from '../../src/activities/contract';
import type { RunResult } from '../../src/dsl/types';

const { callAgent } = proxyActivities<PalletActivities>({
  startToCloseTimeout: '300s',
  scheduleToCloseTimeout: '3000s',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Continue as new past this many history events (the interpreter's MAX_HISTORY_EVENTS), or when the server suggests it. */
const HISTORY_LIMIT = 10_000;

export interface HandWrittenInput {
  /** The interpreter's metadata, so that results compare equal. */
  workflow: { id: string; name: string; version: string };
  skill: string;
  x: unknown;
}

function result(
  input: HandWrittenInput,
  initial_input: Record<string, unknown>,
  step_outputs: Record<string, { outputs: unknown }>,
  final_output: unknown,
): RunResult {
  const { id, name, version } = input.workflow;
  return { workflow_id: id, workflow_name: name, workflow_version: version, initial_input, step_outputs, final_output };
}

export interface ChainInput extends HandWrittenInput {
  steps: number;
  /** Carried across continue-as-new: the next step and the outputs so far. */
  next?: number;
  outputs?: Record<string, { outputs: unknown }>;
}

/** n steps one after another, each passing the previous step's `x` on. */
export async function handWrittenChain(input: ChainInput): Promise<RunResult> {
  const outputs = input.outputs ?? {};
  let last: unknown = input.next ? outputs[`s${input.next - 1}`].outputs : undefined;
  for (let i = input.next ?? 0; i < input.steps; i++) {
    const info = workflowInfo();
    if (info.historyLength >= HISTORY_LIMIT || info.continueAsNewSuggested) {
      await continueAsNew<typeof handWrittenChain>({ ...input, next: i, outputs });
    }
    const x = i === 0 ? input.x : (last as { x: unknown }).x;
    const reply = await callAgent({ stepId: `s${i}`, skill: input.skill, inputs: { x } });
    outputs[`s${i}`] = { outputs: reply.result };
    last = reply.result;
  }
  return result(input, { x: input.x }, outputs, last ?? {});
}

export interface FanOutInput extends HandWrittenInput {
  width: number;
}

/** n calls at once, each given the same input. */
export async function handWrittenFanOut(input: FanOutInput): Promise<RunResult> {
  const ids = Array.from({ length: input.width }, (_, i) => `b${i}`);
  const replies = await Promise.all(ids.map((stepId) => callAgent({ stepId, skill: input.skill, inputs: { x: input.x } })));
  const outputs = Object.fromEntries(ids.map((id, i) => [id, { outputs: replies[i].result }]));
  return result(input, { x: input.x }, outputs, replies[replies.length - 1].result);
}

export interface MapInput extends HandWrittenInput {
  items: unknown[];
  concurrency: number;
}

/** One call per item, at most `concurrency` at a time, results in item order. */
export async function handWrittenMap(input: MapInput): Promise<RunResult> {
  const results: unknown[] = new Array<unknown>(input.items.length).fill(null);
  let next = 0;
  const lane = async () => {
    while (next < input.items.length) {
      const index = next++;
      const reply = await callAgent({ stepId: `map[${index}].work`, skill: input.skill, inputs: { x: input.items[index] } });
      results[index] = reply.result;
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.items.length) }, lane));
  return result(input, { x: input.x, items: input.items }, { map: { outputs: results } }, results);
}
