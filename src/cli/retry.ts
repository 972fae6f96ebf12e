// `pallet retry`: start a failed run again under its workflow id, offering it the results of
// the steps it finished. The plan is read from the failed run's history alone (no worker
// needed): its input, its definition, each finished step's resolved inputs and result. A
// retry may change the input or the definition; a step then takes its offer only if its
// definition and resolved inputs are unchanged (the workflow compares stepKey values).
import type { temporal } from '@temporalio/proto';
import { connectClient, resolveTarget, searchAttributesFor, uiLink, waitForResult } from '../client';
import { canonicalJson, payloadSize, stepKey, type PalletWorkflowInput, type ReuseOffer } from '../contract';
import { DefinitionError, formatProblem } from '../dsl/loader';
import { isPlainObject } from '../dsl/templates';
import { MAX_PAYLOAD_BYTES, type DefinitionSource, type RunResult, type WorkflowDefinition } from '../dsl/types';
import { services as processServices } from '../services';
import { palletWorkflow } from '../workflows';
import { decode, viewFromHistory } from './history';
import { appOptions, parseInput, progressLine, reportCompleted, reportFailure } from './run';


/** What a failed run leaves to its retry. */
export interface FailedRun {
  /** The failed run's own input (definition, source, input, earlier offers). */
  args: PalletWorkflowInput;
  /** The definition it ran: its input's, or the one it loaded from the registry. */
  definition?: WorkflowDefinition;
  source?: DefinitionSource;
  /** Results of the steps it finished (and of those it reused), with their keys. */
  offers: Record<string, ReuseOffer>;
  /** Definitions its `execute_workflow` steps pinned. */
  pinned: Record<string, DefinitionSource>;
  /** Finished steps it cannot offer: their definition is ambiguous or their inputs unknown. */
  unofferable: string[];
}

interface CallStep {
  id: string;
  skill: string;
  [field: string]: unknown;
}

/** Every call step of a definition by id (an id can repeat across exclusive branches). */
export function callSteps(definition: WorkflowDefinition): Map<string, CallStep[]> {
  const found = new Map<string, CallStep[]>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isPlainObject(value)) {
      if (typeof value.id === 'string' && typeof value.skill === 'string') {
        const list = found.get(value.id) ?? [];
        list.push(value as CallStep);
        found.set(value.id, list);
      }
      for (const [k, v] of Object.entries(value)) if (k !== 'inputs') visit(v);
    }
  };
  visit(definition.steps);
  return found;
}

/** Reads a failed run's history into what its retry may reuse. */
export function failedRunFromHistory(history: temporal.api.history.v1.IHistory, workflowId: string): FailedRun {
  const events = history.events ?? [];
  const args = decode<PalletWorkflowInput>(events[0]?.workflowExecutionStartedEventAttributes?.input);
  if (!args) throw new Error(`cannot read the input of ${workflowId} from its history`);
  let definition = args.definition;
  let source = args.source;
  const pinned: Record<string, DefinitionSource> = { ...(args.pinned ?? {}) };
  /** Step id → what the finished call received: an agent's resolved inputs, a child's workflow and input. */
  const calls = new Map<string, { skill?: string; inputs: Record<string, unknown> }>();
  const results = new Map<string, unknown>();
  const scheduled = new Map<string, { id: string; type: string; input: unknown }>();
  const childRefs = new Map<string, string>();
  const childInitiated = new Map<string, string>();

  for (const e of events) {
    const key = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      scheduled.set(key, { id: a.activityId ?? '', type: a.activityType?.name ?? '', input: decode(a.input) });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      if (!s) continue;
      const result = decode<{ result?: unknown; definition?: WorkflowDefinition; source?: DefinitionSource }>(a.result);
      if (s.type === 'callAgent') {
        const request = s.input as { skill?: string; inputs?: Record<string, unknown> } | undefined;
        if (request?.inputs) calls.set(s.id, { skill: request.skill, inputs: request.inputs });
        results.set(s.id, result?.result);
      } else if (s.id === 'load-definition' && result?.definition) {
        definition = result.definition;
        source = result.source ?? source;
      } else if (s.id.endsWith('.definition') && result?.source) {
        const stepId = s.id.slice(0, -'.definition'.length);
        pinned[stepId] = result.source;
        childRefs.set(stepId, (s.input as { ref?: string } | undefined)?.ref ?? result.source.ref);
      }
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
      const stepId = (a.workflowId ?? '').slice(workflowId.length + 1);
      childInitiated.set(key, stepId);
      const child = decode<PalletWorkflowInput>(a.input);
      const ref = childRefs.get(stepId) ?? child?.source?.ref;
      calls.set(stepId, { inputs: { workflow_id: ref, input: child?.input ?? {} } });
    } else if (e.childWorkflowExecutionCompletedEventAttributes) {
      const a = e.childWorkflowExecutionCompletedEventAttributes;
      const stepId = childInitiated.get(String(a.initiatedEventId));
      if (stepId !== undefined) results.set(stepId, decode(a.result));
    }
  }

  // Offers it was given and took again (no call in this history) stand as they were.
  const offers: Record<string, ReuseOffer> = {};
  for (const [id, offer] of Object.entries(args.offers ?? {})) if (!calls.has(id)) offers[id] = offer;
  const unofferable: string[] = [];
  const steps = definition ? callSteps(definition) : new Map<string, CallStep[]>();
  for (const [id, result] of results) {
    const call = calls.get(id);
    // A loop's body step runs as `loop[i].step`: its definition is the step's own.
    const written = id.includes('].') ? id.slice(id.lastIndexOf('].') + 2) : id;
    const candidates = (steps.get(written) ?? []).filter((s) => call?.skill === undefined || s.skill === call.skill);
    if (!call || candidates.length !== 1) {
      unofferable.push(id);
      continue;
    }
    offers[id] = { result, key: stepKey(candidates[0], call.inputs) };
  }
  return { args, definition, source, offers, pinned, unofferable };
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
    const was = from ? `${from.ref} ${short(from.digest)}` : `${failed.definition?.metadata.id ?? '?'} ${failed.definition?.metadata.version ?? ''} (given inline)`;
    changes.push(`definition: ${was.trim()} -> ${change.source!.ref} ${short(change.source!.digest)}`.trim());
  }
  const input = change.input ?? args.input ?? {};
  const inputChanged = change.input !== undefined && canonicalJson(change.input) !== canonicalJson(args.input ?? {});
  if (inputChanged) changes.push('input');
  // Results given without a key (by a retry before keys existed, or carried from an earlier
  // generation of a long run) hold only while nothing changed.
  let completed: Record<string, unknown> | undefined = args.carried || args.completed ? { ...args.carried, ...args.completed } : undefined;
  if (completed && Object.keys(completed).length && (definitionChanged || inputChanged)) {
    notOffered.push(...Object.keys(completed));
    completed = undefined;
  }
  const next: PalletWorkflowInput = {
    ...(change.source ? (change.definition ? { definition: change.definition } : {}) : args.definition ? { definition: args.definition } : {}),
    source: newSource,
    input,
    ...(completed && Object.keys(completed).length ? { completed } : {}),
    offers: failed.offers,
    // The children the failed run pinned run again, unless the definition itself changed.
    pinned: definitionChanged ? {} : failed.pinned,
    // Call ids (the agents' Idempotency-Key) stay those of the first run.
    callsOf: args.callsOf ?? failedRunRef,
  };
  return { args: next, changes, offered: Object.keys(failed.offers), notOffered: [...new Set(notOffered)] };
}

function short(digest: string | undefined): string {
  return digest ? digest.slice(0, 19) : '';
}

export interface RetryOptions {
  runId?: string;
  input?: string;
  file?: string;
  workflow?: string;
  json?: boolean;
  wait: boolean;
  appDir?: string;
  appWriter?: string;
}

/** `pallet retry ID`: plan from the failed run's history, start, and report like `run`. */
export async function retryCommand(workflowId: string, opts: RetryOptions): Promise<void> {
  if (opts.file && opts.workflow) throw new Error('give either --file or --workflow, not both');
  const input = opts.input !== undefined ? parseInput(opts.input, []) : undefined;
  const services = processServices();
  try {
    const app = await appOptions(opts, services.settings);
    // A changed definition is read and checked before anything else happens.
    const target = opts.file || opts.workflow ? await resolveTarget(opts, services).catch(definitionProblems) : undefined;
    const pc = await connectClient(services);
    const failedHandle = pc.client.workflow.getHandle(workflowId, opts.runId);
    const description = await failedHandle.describe().catch((err: Error) => {
      if (err.name === 'WorkflowNotFoundError') throw new Error(`no run ${workflowId}${opts.runId ? ` (run ${opts.runId})` : ''} on the server`);
      throw err;
    });
    if (description.type !== palletWorkflow.name) throw new Error(`${workflowId} is a ${description.type}, not a Pallet run`);
    const status = description.status.name;
    if (status === 'RUNNING' || status === 'COMPLETED') throw new Error(`${workflowId} is ${status.toLowerCase()}; only failed, timed out, cancelled or terminated runs can be retried`);
    const failed = failedRunFromHistory(await failedHandle.fetchHistory(), workflowId);
    if (!failed.definition && !target) {
      throw new Error(`${workflowId} failed before its definition was loaded: nothing to reuse; fix the definition and start a new run with \`pallet run\`, or retry with --file or --workflow`);
    }
    const plan = planRetry(failed, `${workflowId}/${description.runId}`, { definition: target?.definition, source: target?.source, input });
    const size = payloadSize(plan.args);
    if (size > MAX_PAYLOAD_BYTES) {
      throw new Error(`the retry's input (definition, input and the ${plan.offered.length} results offered for reuse) comes to ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload; start a new run with \`pallet run\``);
    }
    const definitionId = target?.definitionId ?? String(failed.definition?.metadata.id ?? workflowId);
    const definition = target ? target.definition : failed.definition;
    const typedSearchAttributes = await searchAttributesFor(pc, { definitionId: definition?.metadata.id ?? definitionId, version: definition?.metadata.version, digest: plan.args.source?.digest || undefined });
    const handle = await pc.client.workflow.start(palletWorkflow, {
      taskQueue: services.settings.taskQueue,
      workflowId,
      args: [typedSearchAttributes ? { ...plan.args, searchAttributes: true } : plan.args],
      typedSearchAttributes,
      memo: { retryOf: description.runId, definitionId, definitionRef: plan.args.source?.ref ?? null, definitionDigest: plan.args.source?.digest ?? null },
      staticSummary: `Pallet workflow ${definitionId} (retry)`,
    });
    const link = uiLink(pc, workflowId, handle.firstExecutionRunId);
    const log = opts.json ? (s: string) => console.error(s) : (s: string) => console.log(s);
    if (!opts.wait && opts.json) {
      console.log(JSON.stringify({ workflow_id: workflowId, run_id: handle.firstExecutionRunId, retry_of: description.runId, changed: plan.changes, offered: plan.offered, not_offered: plan.notOffered, url: link }));
      return;
    }
    log(`retrying ${workflowId} (its ${status.toLowerCase().replace(/_/g, ' ')} run ${description.runId}) as run ${handle.firstExecutionRunId}`);
    log(`  changed: ${plan.changes.join('; ') || 'nothing (same definition and input)'}`);
    log(`  offered for reuse: ${listed(plan.offered) || '-'}${plan.offered.length ? ' (each is reused only if its definition and resolved inputs are unchanged)' : ''}`);
    if (plan.notOffered.length) log(`  will run again: ${listed(plan.notOffered)}`);
    log(`  ${link}`);
    if (!opts.wait) return;
    let result: RunResult;
    try {
      result = await waitForResult(handle, opts.json ? undefined : (s) => log(`  ${progressLine(s)}`));
    } catch (err) {
      reportFailure(err, workflowId, link, opts.json, { runId: handle.firstExecutionRunId });
      return;
    }
    const ran = new Set(viewFromHistory(await handle.fetchHistory(), workflowId).steps.filter((s) => s.kind !== 'definition' && s.state !== 'reused' && s.state !== 'carried').map((s) => s.id));
    const reused = plan.offered.filter((id) => id in result.step_outputs && !ran.has(id));
    const rerun = plan.offered.filter((id) => ran.has(id));
    log(`  reused: ${listed(reused) || '-'}${rerun.length ? `; ran again (changed): ${listed(rerun)}` : ''}`);
    await reportCompleted(result, {
      workflowId,
      runId: handle.firstExecutionRunId,
      link,
      source: plan.args.source,
      json: opts.json,
      ...app,
    });
  } finally {
    await services.close();
  }
}

/** Step ids for a line: the first 20, then how many more (a loop may have thousands). */
function listed(ids: string[]): string {
  return ids.length > 20 ? `${ids.slice(0, 20).join(', ')} (and ${ids.length - 20} more)` : ids.join(', ');
}

function definitionProblems(err: unknown): never {
  if (err instanceof DefinitionError) throw new Error(err.problems.map(formatProblem).join('\n'));
  throw err;
}
