// `pallet approve`: answers a wait step of a running run with an event (the `event` update,
// contract.ts); `pallet reply`: answers an agent's question (the `reply` update). The run's worker takes it, or refuses it when no wait step of the run is
// waiting for that event now; the sender learns which at once. An update needs a worker:
// without one this says so after a few seconds, and sends nothing.
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { uiLink, type PalletClient } from '../client';
import {
  eventUpdate,
  NOT_WAITING,
  replyUpdate,
  stateQuery,
  type AskingStep,
  type EventReceipt,
  type PalletEvent,
  type PalletReply,
  type ReplyReceipt,
  type RunState,
  type WaitingStep,
} from '../contract';

/** How long the run's worker has to answer the `state` query (as `status` waits). */
const QUERY_TIMEOUT_MS = 5_000;
/** How long the worker has to take the event once the run was seen waiting. */
const UPDATE_TIMEOUT_MS = 15_000;

export interface ApproveOptions {
  reject?: boolean;
  data?: string;
  by?: string;
  runId?: string;
  json?: boolean;
}

export interface ReplyOptions {
  text?: string;
  data?: string;
  by?: string;
  runId?: string;
  json?: boolean;
}

/** Steps asking now, as `"step" ("question")`. */
export function describeAsking(asking: AskingStep[]): string {
  if (asking.length === 0) return 'no step of it is asking now';
  return `asking now: ${asking.map((a) => `"${a.step}" (${JSON.stringify(a.question)})`).join(', ')}`;
}

/** `pallet reply`: checks the run is asking at that step (the live state), then sends the `reply` update. */
export async function replyCommand(pc: PalletClient, workflowId: string, step: string, opts: ReplyOptions): Promise<void> {
  if (opts.text === undefined && opts.data === undefined) throw new Error('give the answer with --text TEXT or --data JSON');
  const reply: PalletReply = { step };
  if (opts.text !== undefined) reply.text = opts.text;
  if (opts.data !== undefined) {
    try {
      reply.data = JSON.parse(opts.data);
    } catch (err) {
      throw new Error(`--data must be JSON (e.g. '{"name": "Ada"}' or '"text"'): ${(err as Error).message}`);
    }
  }
  if (opts.by !== undefined) reply.by = opts.by;
  const { handle, runId, state, connection } = await runningState(pc, workflowId, opts.runId, {
    closed: 'takes a reply',
    what: 'a reply',
    again: 'send it again',
    loading: 'no step is asking yet',
  });
  const asking = state.asking ?? [];
  if (!asking.some((a) => a.step === step)) throw new Error(`${workflowId} is not asking at step "${step}": ${describeAsking(asking)}. Nothing was sent.`);
  let receipt: ReplyReceipt;
  try {
    receipt = await connection.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(replyUpdate, { args: [reply] }));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as (Error & { type?: string }) | undefined;
      throw new Error(`${workflowId} refused the reply: ${cause?.message ?? err.message}. Nothing was taken.`);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new Error(
        `no worker took the reply for ${workflowId} within ${UPDATE_TIMEOUT_MS / 1000} s: check with \`npx pallet status ${workflowId}\` before sending it again`,
      );
    }
    throw err;
  }
  const link = uiLink(pc, workflowId, runId);
  if (opts.json) {
    console.log(
      JSON.stringify(
        { workflow_id: workflowId, run_id: runId, step: receipt.step, text: reply.text ?? null, data: reply.data ?? null, by: reply.by ?? null, url: link },
        null,
        2,
      ),
    );
    return;
  }
  console.log(`${workflowId}: answered step "${receipt.step}"${reply.by ? ` (by ${reply.by})` : ''}; its agent's task goes on\n  ${link}`);
}

/** How runningState words its refusals: for an event (`approve`) or a reply. */
interface Wording {
  /** After "only a running run ": `waits for events`. */
  closed: string;
  /** What the worker takes: `an event`. */
  what: string;
  /** How to try again: `approve again`. */
  again: string;
  /** Why nothing can be answered while the definition loads: `no wait step is waiting yet`. */
  loading: string;
}

/** A running run's live state (the `state` query): it needs the run's worker, as an update does. */
async function runningState(pc: PalletClient, workflowId: string, runId: string | undefined, wording: Wording) {
  const handle = pc.client.workflow.getHandle(workflowId, runId);
  const description = await handle.describe().catch((err: Error) => {
    if (err.name === 'WorkflowNotFoundError') throw new Error(`no run ${workflowId}${runId ? ` (run ${runId})` : ''} on the server`);
    throw err;
  });
  const status = description.status.name;
  if (status !== 'RUNNING') throw new Error(`${workflowId} is ${status.toLowerCase().replace(/_/g, ' ')}: only a running run ${wording.closed}`);
  const { connection } = await pc.services.temporal();
  let state: RunState | null;
  try {
    state = await connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(stateQuery));
  } catch (err) {
    throw new Error(
      `no worker answered ${workflowId} within ${QUERY_TIMEOUT_MS / 1000} s (${(err as Error).message.split('\n')[0]}): ${wording.what} is taken by the run's worker; ` +
        `start one (\`npx pallet worker\`) and ${wording.again}. Nothing was sent.`,
    );
  }
  if (state === null) throw new Error(`${workflowId} is still loading its definition: ${wording.loading}. Nothing was sent.`);
  return { handle: pc.client.workflow.getHandle(workflowId, description.runId), runId: description.runId, state, connection };
}

/** Pending waits, as `"event"` or `"event" (step id)`. */
export function describeWaiting(waiting: WaitingStep[]): string {
  if (waiting.length === 0) return 'no wait step of it is waiting now';
  return `it is waiting for ${waiting.map((w) => (w.event === w.step ? `"${w.event}"` : `"${w.event}" (step ${w.step})`)).join(', ')}`;
}

export async function approveCommand(pc: PalletClient, workflowId: string, name: string, opts: ApproveOptions): Promise<void> {
  const event: PalletEvent = { event: name, outcome: opts.reject ? 'rejected' : 'approved' };
  if (opts.data !== undefined) {
    try {
      event.data = JSON.parse(opts.data);
    } catch (err) {
      throw new Error(`--data must be JSON (e.g. '{"note": "ok"}' or '"text"'): ${(err as Error).message}`);
    }
  }
  if (opts.by !== undefined) event.by = opts.by;

  // The live state first: it needs the worker the event needs, and names what the run waits for.
  const { handle, runId, state, connection } = await runningState(pc, workflowId, opts.runId, {
    closed: 'waits for events',
    what: 'an event',
    again: 'approve again',
    loading: 'no wait step is waiting yet',
  });
  const waiting = state.waiting ?? [];
  if (!waiting.some((w) => w.event === name || w.step === name))
    throw new Error(`${workflowId} is not waiting for "${name}": ${describeWaiting(waiting)}. Nothing was sent.`);

  const receipt = await sendEvent(
    event,
    () => connection.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(eventUpdate, { args: [event] })),
    workflowId,
  );
  const link = uiLink(pc, workflowId, runId);
  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          workflow_id: workflowId,
          run_id: runId,
          event: name,
          outcome: receipt.outcome,
          steps: receipt.steps,
          data: event.data ?? null,
          by: event.by ?? null,
          url: link,
        },
        null,
        2,
      ),
    );
    return;
  }
  const steps = receipt.steps.map((s) => `"${s}"`).join(', ');
  console.log(`${workflowId}: ${receipt.outcome} wait step${receipt.steps.length === 1 ? '' : 's'} ${steps}${event.by ? ` (by ${event.by})` : ''}\n  ${link}`);
}

/** Sends the event; the run's refusals and a missing worker as plain errors. */
async function sendEvent(event: PalletEvent, send: () => Promise<EventReceipt>, workflowId: string): Promise<EventReceipt> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as (Error & { type?: string }) | undefined;
      // The run stopped waiting between the query and the update (answered, timed out).
      if (cause?.type === NOT_WAITING) throw new Error(`${workflowId}: ${cause.message}. Nothing was taken.`);
      // A worker of a Pallet without wait steps has no handler for the update.
      if (/no registered handler for update/i.test(cause?.message ?? '')) {
        throw new Error(`${workflowId} runs on a worker of a Pallet version without wait steps: it cannot take events. Nothing was taken.`);
      }
      throw new Error(`${workflowId} refused the event: ${cause?.message ?? err.message}`);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new Error(
        `no worker took the event "${event.event}" for ${workflowId} within ${UPDATE_TIMEOUT_MS / 1000} s; the server may still hand it to the run's next worker: ` +
          `check with \`npx pallet status ${workflowId}\` before sending it again`,
      );
    }
    throw err;
  }
}
