// `pallet retry`: start a failed run again under its workflow id, offering it the results of
// the steps it finished. The plan is read from the failed run's history alone (no worker
// needed): its input, its definition, each finished step's resolved inputs and result. A
// retry may change the input or the definition; a step then takes its offer only if its
// definition and resolved inputs are unchanged (the workflow compares stepKey values). The
// planning itself is src/history/reuse.ts, over the fold of the run and of its batch children.
import type { Client } from '@temporalio/client';
import type { ClaimStore } from '../claims';
import { connectClient, resolveTarget, searchAttributesFor, uiLink } from '../client';
import { payloadSize, type RunState } from '../contract';
import { DefinitionError, formatProblem } from '../dsl/loader';
import { MAX_PAYLOAD_BYTES, type RunResult } from '../dsl/types';
import { batchesOf, foldHistory, type History, type RunFold } from '../history/fold';
import { failedRunOf, planRetry, retryOutcome } from '../history/reuse';
import { services as processServices } from '../services';
import { palletWorkflow } from '../workflows';
import { appOptions, parseInput, followRun, reportCompleted, reportFailure } from './run';

export { callSteps, failedRunFromHistory, failedRunOf, planRetry, type FailedRun, type RetryPlan } from '../history/reuse';

/** A run's fold and those of the batch children of its large parallel steps (each fetched from the server, finished or not). */
async function foldWithBatches(client: Client, workflowId: string, history: History, store?: ClaimStore): Promise<{ fold: RunFold; batches: RunFold[] }> {
  const fold = await foldHistory(history, workflowId, store);
  const batches = await Promise.all(
    batchesOf(fold)
      .filter((b) => b.runId)
      .map(async (b) => foldHistory(await client.workflow.getHandle(b.name, b.runId).fetchHistory(), b.name)),
  );
  return { fold, batches };
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
    if (status === 'RUNNING' || status === 'COMPLETED')
      throw new Error(`${workflowId} is ${status.toLowerCase()}; only failed, timed out, cancelled or terminated runs can be retried`);
    // A long run's carried state kept in the data store is read from it (to offer those steps too).
    const read = await foldWithBatches(pc.client, workflowId, await failedHandle.fetchHistory(), services.claims);
    const failed = failedRunOf(read.fold, read.batches);
    if (!failed.definition && !target) {
      throw new Error(
        `${workflowId} failed before its definition was loaded: nothing to reuse; fix the definition and start a new run with \`pallet run\`, or retry with --file or --workflow`,
      );
    }
    const plan = planRetry(failed, `${workflowId}/${description.runId}`, { definition: target?.definition, source: target?.source, input });
    const size = payloadSize(plan.args);
    if (size > MAX_PAYLOAD_BYTES) {
      throw new Error(
        `the retry's input (definition, input and the ${plan.offered.length} results offered for reuse) comes to ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit of a Temporal payload; start a new run with \`pallet run\``,
      );
    }
    const definitionId = target?.definitionId ?? String(failed.definition?.metadata.id ?? workflowId);
    const definition = target ? target.definition : failed.definition;
    const typedSearchAttributes = await searchAttributesFor(pc, {
      definitionId: definition?.metadata.id ?? definitionId,
      version: definition?.metadata.version,
      digest: plan.args.source?.digest || undefined,
    });
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
      console.log(
        JSON.stringify({
          workflow_id: workflowId,
          run_id: handle.firstExecutionRunId,
          retry_of: description.runId,
          changed: plan.changes,
          offered: plan.offered,
          not_offered: plan.notOffered,
          url: link,
        }),
      );
      return;
    }
    log(`retrying ${workflowId} (its ${status.toLowerCase().replace(/_/g, ' ')} run ${description.runId}) as run ${handle.firstExecutionRunId}`);
    log(`  changed: ${plan.changes.join('; ') || 'nothing (same definition and input)'}`);
    log(
      `  offered for reuse: ${listed(plan.offered) || '-'}${plan.offered.length ? ' (each is reused only if its definition and resolved inputs are unchanged)' : ''}`,
    );
    if (plan.notOffered.length) log(`  will run again: ${listed(plan.notOffered)}`);
    log(`  ${link}`);
    if (!opts.wait) return;
    let result: RunResult;
    let lastState: RunState | undefined;
    try {
      ({ result, last: lastState } = await followRun(handle, !opts.json, log));
    } catch (err) {
      reportFailure(err, workflowId, link, opts.json, { runId: handle.firstExecutionRunId });
      return;
    }
    const done = await foldWithBatches(pc.client, workflowId, await handle.fetchHistory());
    const { reused, rerun } = retryOutcome(plan, result, [done.fold, ...done.batches]);
    const given = plan.offered.length + Object.keys(plan.args.completed ?? {}).length;
    log(`  reused ${reused.length} of ${given}: ${listed(reused) || '-'}${rerun.length ? `; ran again (changed) ${rerun.length}: ${listed(rerun)}` : ''}`);
    await reportCompleted(result, {
      workflowId,
      runId: handle.firstExecutionRunId,
      link,
      source: plan.args.source,
      json: opts.json,
      lastState,
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
