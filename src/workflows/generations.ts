// Runs of any length: when a run's history grows past a limit (or the server suggests it),
// the interpreter stops starting new calls, waits for those in flight, and continues as new,
// carrying the stored outputs of every finished step (a large state by reference, see
// state.ts), the keys of its call steps, and the deadlines of its sleeps and waits under way.
// The next generation walks the same graph from the start, taking those outputs instead of
// calling again, so results (and their Pallet order) are those of one long run. Sandbox code.
import { ApplicationFailure, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import {
  FailureTypes,
  isStateRef,
  oversizedPayload,
  payloadSize,
  type AskingStep,
  type CarriedTimer,
  type ClaimRef,
  type PalletWorkflowInput,
  type RunState,
  type StateSegment,
} from '../contract';
import { MAX_PAYLOAD_BYTES, type DefinitionSource, type WorkflowDefinition } from '../dsl/types';
import { CONTINUE_AS_NEW, STATE_BY_REFERENCE } from './patches';
import { addSegments, loopOf, readableLater } from './state';

/**
 * History events after which a run moves to a new history, well below Temporal's hard limit of
 * 51,200 (the server terminates a run there): the calls in flight when it is reached still
 * finish in this history, up to a few thousand events more.
 */
export const MAX_HISTORY_EVENTS = 10_000;

/** Thrown into the walk once every call in flight has finished: the run goes on in a new history. */
export class GenerationEnd extends Error {
  constructor() {
    super('the run continues in a new history');
    this.name = 'GenerationEnd';
  }
}

/** Decides when this generation ends, and holds new calls while the ones in flight finish. */
export class Generation {
  private draining = false;

  constructor(
    private readonly limit: number,
    /** Whether no call is in flight. */
    private readonly idle: () => boolean,
  ) {}

  /** Before a call starts: passes, or (once the history is long) waits for quiet and ends the walk. */
  async beforeCall(): Promise<void> {
    if (!this.draining) {
      const info = workflowInfo();
      if (info.historyLength < this.limit && !info.continueAsNewSuggested) return;
      // Runs recorded before this existed never ended a generation: replay them unchanged.
      if (!patched(CONTINUE_AS_NEW)) return;
      this.draining = true;
    }
    await condition(this.idle);
    throw new GenerationEnd();
  }
}

/** What this generation leaves to the next: its walk's state and keys, and the timers under way. */
export interface GenerationCarry {
  state: RunState;
  keys: Record<string, string>;
  timers: Record<string, CarriedTimer>;
  /** Agents' questions still unanswered, by step id. */
  asking: Record<string, AskingStep>;
  /** Stores a segment of carried outputs in the data store (an activity). */
  storeSegment(segment: StateSegment): Promise<ClaimRef>;
}

/** Carried state up to this many bytes stays in the next generation's input, as it always did. */
export const INLINE_STATE_BYTES = 1_000_000;

/**
 * What the next generation starts from: everything this one finished, carried. A large state
 * keeps in the input only the outputs that steps not yet finished may read; the others go to
 * the data store (STATE_BY_REFERENCE), so the state a run carries never outgrows a payload.
 */
export async function nextGeneration(
  args: PalletWorkflowInput,
  carry: GenerationCarry,
  definition: WorkflowDefinition,
  source: DefinitionSource | undefined,
): Promise<PalletWorkflowInput> {
  const info = workflowInfo();
  const { state } = carry;
  const carried: Record<string, unknown> = { ...(args.carried ?? {}) };
  // Outputs kept in the data store stay there: they stand in the walk as references.
  for (const [id, { outputs }] of Object.entries(state.step_outputs)) if (!isStateRef(outputs)) carried[id] = outputs;
  const offers = Object.fromEntries(Object.entries(args.offers ?? {}).filter(([id]) => !(id in carried)));
  const passed = [...(args.passed ?? []), ...(state.passed ?? [])];
  const next: PalletWorkflowInput = {
    definition,
    source,
    input: args.input,
    carried,
    ...(Object.keys(carry.keys).length ? { keys: carry.keys } : {}),
    ...(args.stored ? { stored: args.stored } : {}),
    ...(passed.length ? { passed } : {}),
    ...(Object.keys(carry.timers).length ? { timers: carry.timers } : {}),
    ...(Object.keys(carry.asking).length ? { asking: carry.asking } : {}),
    ...(Object.keys(offers).length ? { offers } : {}),
    pinned: { ...(args.pinned ?? {}), ...state.pinned },
    // Call ids (the agents' Idempotency-Key) stay those of the run's first generation.
    callsOf: args.callsOf ?? `${info.workflowId}/${info.firstExecutionRunId}`,
    generations: [
      ...(args.generations ?? []),
      { run_id: info.runId, started_at: info.runStartTime.toISOString(), events: info.historyLength, bytes: info.historySize },
    ],
    ...(args.historyLimit !== undefined ? { historyLimit: args.historyLimit } : {}),
    ...(args.inlineStateBytes !== undefined ? { inlineStateBytes: args.inlineStateBytes } : {}),
    ...(args.searchAttributes ? { searchAttributes: args.searchAttributes } : {}),
    ...(args.lineage ? { lineage: args.lineage } : {}),
    ...(args.owner ? { owner: args.owner } : {}),
  };
  // A large state goes to the data store; one the store cannot take (a worker without a data
  // store, a registry down past the deadline) is carried as it is while it fits one payload.
  let notStored: unknown;
  if (payloadSize(next) > (args.inlineStateBytes ?? INLINE_STATE_BYTES) && patched(STATE_BY_REFERENCE)) {
    notStored = await storeUnread(next, carry, definition).then(
      () => undefined,
      (err: unknown) => err,
    );
  }
  // Said, not retried: a state too large to carry cannot become smaller by retrying.
  const size = oversizedPayload(next);
  if (size !== undefined) {
    const why =
      notStored instanceof Error ? `; storing it in the data store failed: ${(notStored.cause as Error | undefined)?.message ?? notStored.message}` : '';
    throw ApplicationFailure.create({
      message: `the run's history reached ${info.historyLength} events and the state it must keep in memory (${Object.keys(next.carried ?? {}).length} step outputs that later steps read, ${size} bytes) is over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload, so it cannot continue in a new history${why}: have agents return references instead of large data`,
      type: FailureTypes.resultTooLarge,
      nonRetryable: true,
      cause: notStored instanceof Error ? notStored : undefined,
    });
  }
  return next;
}

/**
 * Moves the carried outputs that no step still to run can read (and their keys) to the data
 * store: `next.carried` keeps the others, `next.stored` gains a segment per SEGMENT_BYTES.
 * A loop that has not finished keeps its iterations' outputs (they feed its list).
 */
async function storeUnread(next: PalletWorkflowInput, carry: GenerationCarry, definition: WorkflowDefinition): Promise<void> {
  const carried = next.carried ?? {};
  const has = (id: string) =>
    Object.prototype.hasOwnProperty.call(carried, id) || Object.prototype.hasOwnProperty.call(next.stored?.index ?? {}, id) || (next.passed ?? []).includes(id);
  const readable = readableLater(definition, has);
  if (!readable) return;
  const keep = (id: string) => {
    const loop = loopOf(id);
    return readable.has(id) || (loop !== undefined && !has(loop));
  };
  const moving = Object.entries(carried).filter(([id]) => !keep(id));
  if (moving.length === 0) return;
  const keys = next.keys ?? {};
  const stored = await addSegments(next.stored, moving, keys, carry.storeSegment);
  next.stored = stored;
  next.carried = Object.fromEntries(Object.entries(carried).filter(([id]) => keep(id)));
  const kept = Object.fromEntries(Object.entries(keys).filter(([id]) => !(id in stored.index)));
  if (Object.keys(kept).length) next.keys = kept;
  else delete next.keys;
}

/** Ends this generation: the run goes on as a new execution with the same workflow id. */
export function continueRun(next: PalletWorkflowInput): Promise<never> {
  return continueAsNew<(args: PalletWorkflowInput) => Promise<unknown>>(next);
}
