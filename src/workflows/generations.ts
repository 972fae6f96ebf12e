// Runs of any length: when a run's history grows past a limit (or the server suggests it),
// the interpreter stops starting new calls, waits for those in flight, and continues as new,
// carrying the stored outputs of every finished step. The next generation walks the same
// graph from the start, taking those outputs instead of calling again, so results (and their
// Pallet order) are those of one long run. Sandbox code.
import { ApplicationFailure, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { FailureTypes, payloadSize, type PalletWorkflowInput, type RunState } from '../contract';
import { MAX_PAYLOAD_BYTES, type DefinitionSource, type WorkflowDefinition } from '../dsl/types';

/** Patch id: a run continues as new when its history grows past its limit. */
export const CONTINUE_AS_NEW = 'continue-as-new';
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

/** What the next generation starts from: everything this one finished, carried. */
export function nextGeneration(args: PalletWorkflowInput, state: RunState, definition: WorkflowDefinition, source: DefinitionSource | undefined): PalletWorkflowInput {
  const info = workflowInfo();
  const carried: Record<string, unknown> = { ...(args.carried ?? {}) };
  for (const [id, { outputs }] of Object.entries(state.step_outputs)) carried[id] = outputs;
  const offers = Object.fromEntries(Object.entries(args.offers ?? {}).filter(([id]) => !(id in carried)));
  const next: PalletWorkflowInput = {
    definition,
    source,
    input: args.input,
    carried,
    ...(args.passed?.length || state.passed?.length ? { passed: [...(args.passed ?? []), ...(state.passed ?? [])] } : {}),
    ...(Object.keys(offers).length ? { offers } : {}),
    pinned: { ...(args.pinned ?? {}), ...state.pinned },
    // Call ids (the agents' Idempotency-Key) stay those of the run's first generation.
    callsOf: args.callsOf ?? `${info.workflowId}/${info.firstExecutionRunId}`,
    generations: [...(args.generations ?? []), { run_id: info.runId, events: info.historyLength, bytes: info.historySize }],
    ...(args.historyLimit !== undefined ? { historyLimit: args.historyLimit } : {}),
    ...(args.searchAttributes ? { searchAttributes: args.searchAttributes } : {}),
  };
  // Said, not retried: a state too large to carry cannot become smaller by retrying.
  const size = payloadSize(next);
  if (size > MAX_PAYLOAD_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `the run's history reached ${info.historyLength} events and its state (${Object.keys(carried).length} step outputs, ${size} bytes) is over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload, so it cannot continue in a new history: have agents return references instead of large data`,
      FailureTypes.resultTooLarge,
    );
  }
  return next;
}

/** Ends this generation: the run goes on as a new execution with the same workflow id. */
export function continueRun(next: PalletWorkflowInput): Promise<never> {
  return continueAsNew<(args: PalletWorkflowInput) => Promise<unknown>>(next);
}
