// What `pallet retry` reuses, read from the failed run's history alone (no worker needed): a
// projection of the fold (fold.ts) of the run and of the batch children of its large parallel
// steps. Each finished call becomes an offer keyed by its step's definition and resolved
// inputs (stepKey), taken by the new run only where those are unchanged.
import { canonicalJson, stepKey, type PalletWorkflowInput, type ReuseOffer } from '../contract';
import type { CallAgentRequest } from '../activities/contract';
import { callStepsById, type FoundCallStep } from '../dsl/step-kinds';
import type { DefinitionSource, RunResult, WorkflowDefinition } from '../dsl/types';
import { foldHistory, type Call, type Carried, type History, type RunFold } from './fold';
import { outermostStepId, writtenStepId } from './ids';

/** A carried step's offer: its output as stored under `outputs`, taken as is when its key matches. */
export interface StoredOffer {
  stored: unknown;
  key: string;
}

/** A finished call's offer: the agent's (or child run's) result, stored under `outputs` when taken. */
export interface ResultOffer {
  result: unknown;
  key: string;
}

export type Offer = ResultOffer | StoredOffer;

/** What a failed run leaves to its retry. */
export interface FailedRun {
  /** The failed run's own input (definition, source, input, earlier offers). */
  args: PalletWorkflowInput;
  /** The definition it ran: its input's, or the one it loaded from the registry. */
  definition?: WorkflowDefinition;
  source?: DefinitionSource;
  /** Results of the steps it finished (and of those it reused), with their keys. */
  offers: Record<string, Offer>;
  /** Definitions its `execute_workflow` steps pinned. */
  pinned: Record<string, DefinitionSource>;
  /** Finished steps it cannot offer: their definition is ambiguous or their inputs unknown. */
  unofferable: string[];
  /** What earlier generations carried into its last one (a run that continued as new). */
  carried: Carried;
}

/** Every call step of a definition by id, at any depth (the one walk of the step tree, dsl/step-kinds.ts). */
export const callSteps = callStepsById;

/** A finished call's step, what it received (as the step key counts it) and its result. */
function finishedCall(fold: RunFold, call: Call): { skill?: string; inputs?: Record<string, unknown>; result: unknown } | undefined {
  if (call.state !== 'completed') return undefined;
  if (call.kind === 'agent') {
    const request = call.input as Partial<CallAgentRequest> | undefined;
    const result = (call.result as { result?: unknown } | undefined)?.result;
    return { skill: request?.skill, inputs: request?.inputs, result };
  }
  if (call.kind === 'workflow') {
    const child = call.input as PalletWorkflowInput | undefined;
    const ref = fold.pinRefs[call.step] ?? child?.source?.ref;
    return { inputs: { workflow_id: ref, input: child?.input ?? {} }, result: call.result };
  }
  return undefined;
}

/** Reads a failed run (and the batch children of its large parallel steps) into what its retry may reuse. */
export function failedRunOf(fold: RunFold, batches: RunFold[] = []): FailedRun {
  const { args } = fold;
  if (!args) throw new Error(`cannot read the input of ${fold.workflowId} from its history`);
  const folds = [fold, ...batches];
  const called = new Set(folds.flatMap((f) => f.calls.filter((c) => c.kind === 'agent' || c.kind === 'workflow').map((c) => c.step)));
  // Offers it was given and took again (no call in this history) stand as they were.
  const offers: Record<string, Offer> = {};
  for (const f of folds) for (const [id, offer] of Object.entries(f.args?.offers ?? {})) if (!called.has(id)) offers[id] = offer as Offer;
  const unofferable: string[] = [];
  const steps = fold.definition ? callSteps(fold.definition) : new Map<string, FoundCallStep[]>();
  for (const f of folds) {
    for (const call of f.calls) {
      const done = finishedCall(f, call);
      if (!done) continue;
      // A loop's body step runs as `loop[i].step`: its definition is the step's own.
      const candidates = (steps.get(writtenStepId(call.step)) ?? []).filter((s) => done.skill === undefined || s.skill === done.skill);
      if (!done.inputs || candidates.length !== 1) {
        unofferable.push(call.step);
        continue;
      }
      offers[call.step] = { result: done.result, key: stepKey(candidates[0], done.inputs) };
    }
  }
  return { args, definition: fold.definition, source: fold.source, offers, pinned: { ...fold.pinned }, unofferable, carried: fold.carried };
}

/** failedRunOf from histories: the run's, and those of its batch children. */
export async function failedRunFromHistory(history: History, workflowId: string, batches: { history: History; workflowId: string }[] = []): Promise<FailedRun> {
  const batchFolds = await Promise.all(batches.map((b) => foldHistory(b.history, b.workflowId)));
  return failedRunOf(await foldHistory(history, workflowId), batchFolds);
}

/** The new run's input, and what changed since the failed run, in words. */
export interface RetryPlan {
  args: PalletWorkflowInput;
  changes: string[];
  /** Steps whose results are offered (taken only if unchanged). */
  offered: string[];
  /** Finished steps that will run again whatever happens, and why. */
  notOffered: string[];
}

export function planRetry(
  failed: FailedRun,
  failedRunRef: string,
  change: { definition?: WorkflowDefinition; source?: DefinitionSource; input?: Record<string, unknown> },
): RetryPlan {
  const { args } = failed;
  const changes: string[] = [];
  const notOffered = [...failed.unofferable];
  const newSource = change.source ?? args.source;
  const definitionChanged = change.source !== undefined && (change.source.digest !== (failed.source ?? args.source)?.digest || !change.source.digest);
  if (definitionChanged) {
    const from = failed.source ?? args.source;
    const was = from
      ? `${from.ref} ${short(from.digest)}`
      : `${failed.definition?.metadata.id ?? '?'} ${failed.definition?.metadata.version ?? ''} (given inline)`;
    changes.push(`definition: ${was.trim()} -> ${change.source!.ref} ${short(change.source!.digest)}`.trim());
  }
  const input = change.input ?? args.input ?? {};
  const inputChanged = change.input !== undefined && canonicalJson(change.input) !== canonicalJson(args.input ?? {});
  if (inputChanged) changes.push('input');
  // Carried call steps with a key are offered like any finished step. Results without a key
  // (containers' lists, wait outputs, or given by a retry before keys existed) hold only while nothing changed.
  const offers: Record<string, Offer> = { ...failed.offers };
  let completed: Record<string, unknown> = { ...(args.completed ?? {}) };
  for (const [id, stored] of Object.entries(failed.carried.outputs)) {
    const key = failed.carried.keys[id];
    if (key !== undefined) offers[id] ??= { stored, key };
    else completed[id] = stored;
  }
  if (Object.keys(completed).length && (definitionChanged || inputChanged)) {
    notOffered.push(...Object.keys(completed));
    completed = {};
  }
  const next: PalletWorkflowInput = {
    ...(change.source ? (change.definition ? { definition: change.definition } : {}) : args.definition ? { definition: args.definition } : {}),
    source: newSource,
    input,
    ...(Object.keys(completed).length ? { completed } : {}),
    offers: offers as Record<string, ReuseOffer>,
    // The children the failed run pinned run again, unless the definition itself changed.
    pinned: definitionChanged ? {} : failed.pinned,
    // Call ids (the agents' Idempotency-Key) stay those of the first run.
    callsOf: args.callsOf ?? failedRunRef,
  };
  return { args: next, changes, offered: Object.keys(offers), notOffered: [...new Set(notOffered)] };
}

function short(digest: string | undefined): string {
  return digest ? digest.slice(0, 19) : '';
}

/** What a finished retry did with what it was given: the steps it reused, and the offered ones it ran again. */
export interface RetryOutcome {
  reused: string[];
  rerun: string[];
}

/**
 * Read from the retry's fold (and its batch children's): an offered or carried step it never
 * called was reused if the result has it, or has the loop (`loop[3].step`) it belongs to.
 */
export function retryOutcome(plan: RetryPlan, result: RunResult, folds: RunFold[]): RetryOutcome {
  const called = new Set(folds.flatMap((f) => f.calls.filter((c) => c.kind === 'agent' || c.kind === 'workflow').map((c) => c.step)));
  const given = [...plan.offered, ...Object.keys(plan.args.completed ?? {})];
  const recorded = (id: string) => id in result.step_outputs || outermostStepId(id) in result.step_outputs;
  return { reused: given.filter((id) => !called.has(id) && recorded(id)), rerun: plan.offered.filter((id) => called.has(id)) };
}
