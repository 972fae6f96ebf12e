// Pallet schedules on Temporal Schedules (no scheduler of our own): each action starts the
// interpreter workflow with the same arguments, memo and search attributes as `pallet run`.
// A schedule is pinned to the definition digest resolved when it was created or updated;
// with `resolveEachRun` its action carries the reference without a digest, and each run's
// loadDefinition activity resolves the tag when the run starts (and records the digest it got).
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ServiceError,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptions,
} from '@temporalio/client';
import { PALLET_WORKFLOW_TYPE, resolveTarget, runArgs, searchAttributesFor, type PalletClient, type RunTarget } from '../client';
import type { PalletWorkflowInput } from '../contract';
import { RegistryError } from '../registry';
import { OVERLAP_POLICIES, showWhen, type OverlapName, type PalletScheduleOptions } from './options';

/**
 * What the action's memo (each scheduled run's memo) holds besides `pallet run`'s keys: the
 * reference as given and when it runs, as said (the server keeps a cron only as calendars).
 */
export interface ScheduleMemo {
  workflow: string;
  when: string;
}

/** One schedule, as `schedule list --json` and `schedule describe --json` print it. */
export interface ScheduleView {
  schedule_id: string;
  workflow: string | null;
  definition_id: string | null;
  definition_ref: string | null;
  /** The pinned digest; null when each run resolves the reference. */
  definition_digest: string | null;
  resolve_each_run: boolean;
  when: string | null;
  paused: boolean;
  note: string | null;
  next_runs: string[];
  recent_runs: { workflow_id: string; run_id: string; scheduled_at: string; started_at: string }[];
  overlap: OverlapName | string;
  input: Record<string, unknown>;
  /** Workflow ids of the schedule's runs under way. */
  running: string[];
  actions_taken: number;
  url: string;
}

/**
 * The target of a schedule's runs: the reference resolved now (so an unknown workflow is said at
 * once) and, with resolveEachRun, the reference alone for the worker to resolve at each run.
 */
export async function scheduleTarget(pc: PalletClient, opts: Pick<PalletScheduleOptions, 'workflow' | 'resolveEachRun'>): Promise<RunTarget> {
  const target = await resolveTarget({ workflow: opts.workflow }, pc.services).catch((err: unknown) => {
    if (err instanceof RegistryError && err.code === 'not_found') throw new Error(`unknown workflow "${opts.workflow}": ${err.message}`);
    throw err;
  });
  if (!opts.resolveEachRun) return target;
  // No definition and no digest: the interpreter's loadDefinition activity fetches the reference as it stands.
  const { ref, repository, tag } = target.source;
  return { source: { ref, digest: '', ...(repository ? { repository, tag } : {}) }, definitionId: target.definition?.metadata.id ?? target.definitionId };
}

/** The options of a Temporal schedule that starts `target` as `opts` says. */
export async function temporalScheduleOptions(pc: PalletClient, opts: PalletScheduleOptions, target: RunTarget): Promise<ScheduleOptions> {
  const definitionId = target.definition?.metadata.id ?? target.definitionId;
  const digest = target.source.digest || undefined;
  const typedSearchAttributes = await searchAttributesFor(pc, { definitionId, version: target.definition?.metadata.version, digest });
  const args: PalletWorkflowInput = { ...runArgs(target, { input: opts.input }), ...(typedSearchAttributes ? { searchAttributes: true as const } : {}) };
  const schedule: ScheduleMemo = { workflow: opts.workflow, when: showWhen(opts) };
  return {
    scheduleId: opts.scheduleId,
    spec: opts.cron !== undefined ? { cronExpressions: [opts.cron] } : { intervals: [{ every: opts.everyMs! }] },
    action: {
      type: 'startWorkflow',
      workflowType: PALLET_WORKFLOW_TYPE,
      // The server adds the scheduled time: <schedule id>-2030-01-31T09:00:00Z.
      workflowId: opts.scheduleId,
      taskQueue: pc.services.settings.taskQueue,
      args: [args],
      memo: { definitionId, definitionRef: target.source.ref, definitionDigest: target.source.digest, schedule },
      typedSearchAttributes,
      staticSummary: `Pallet workflow ${definitionId} (schedule ${opts.scheduleId})`,
    },
    policies: { overlap: OVERLAP_POLICIES[opts.overlap] },
  };
}

/** Creates the schedule; `ScheduleAlreadyRunning` becomes a message saying what to do. */
export async function createSchedule(pc: PalletClient, opts: PalletScheduleOptions): Promise<{ handle: ScheduleHandle; target: RunTarget }> {
  const target = await scheduleTarget(pc, opts);
  const options = await temporalScheduleOptions(pc, opts, target);
  try {
    return { handle: await pc.client.schedule.create(options), target };
  } catch (err) {
    throw scheduleError(err, opts);
  }
}

/**
 * Creates the schedule, or updates it to these options when it exists (its paused state and
 * note are kept): what `pallet push` does for a definition's `metadata.schedule` block.
 */
export async function upsertSchedule(pc: PalletClient, opts: PalletScheduleOptions, target: RunTarget): Promise<'created' | 'updated'> {
  const options = await temporalScheduleOptions(pc, opts, target);
  try {
    await pc.client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw scheduleError(err, opts);
  }
  const { spec, action, policies, typedSearchAttributes } = options;
  await pc.client.schedule
    .getHandle(opts.scheduleId)
    .update((previous) => ({
      spec,
      action,
      policies,
      typedSearchAttributes,
      state: { paused: previous.state.paused, note: previous.state.note, remainingActions: previous.state.remainingActions },
    }))
    .catch((err: unknown) => {
      throw scheduleError(err, opts);
    });
  return 'updated';
}

/** A schedule's handle after checking it exists (a clear "no schedule" instead of the SDK's error later). */
export async function existingSchedule(pc: PalletClient, scheduleId: string): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const handle = pc.client.schedule.getHandle(scheduleId);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    throw scheduleError(err, { scheduleId });
  }
}

/** Pallet's schedules (those whose action starts the interpreter workflow), by id, each described (what it runs is in its action). */
export async function listSchedules(pc: PalletClient): Promise<ScheduleView[]> {
  const ids: string[] = [];
  for await (const summary of pc.client.schedule.list()) if (summary.action?.workflowType === PALLET_WORKFLOW_TYPE) ids.push(summary.scheduleId);
  const views: ScheduleView[] = [];
  for (const id of ids.sort()) {
    // Listing is eventually consistent: one deleted since is left out.
    const description = await pc.client.schedule
      .getHandle(id)
      .describe()
      .catch((err: unknown) => {
        if (err instanceof ScheduleNotFoundError) return undefined;
        throw err;
      });
    if (description) views.push(describeView(pc, description));
  }
  return views;
}

/** The view of one schedule, from its description: the action's arguments and memo say what each run runs. */
export function describeView(pc: PalletClient, description: ScheduleDescription): ScheduleView {
  const args = (description.action.args?.[0] ?? {}) as PalletWorkflowInput;
  const memo = (description.action.memo ?? {}) as { definitionId?: string; schedule?: ScheduleMemo };
  // Pinned: a definition carried inline (a workflows folder) or a source with its digest.
  const pinned = !!args.definition || !!args.source?.digest;
  return {
    schedule_id: description.scheduleId,
    workflow: memo.schedule?.workflow ?? null,
    definition_id: args.definition?.metadata.id ?? memo.definitionId ?? null,
    definition_ref: args.source?.ref ?? null,
    definition_digest: args.source?.digest || null,
    resolve_each_run: !pinned,
    when: memo.schedule?.when ?? null,
    paused: description.state.paused,
    note: description.state.note || null,
    next_runs: description.info.nextActionTimes.map((t) => t.toISOString()),
    recent_runs: description.info.recentActions.map((a) => ({
      workflow_id: a.action.workflow.workflowId,
      run_id: a.action.workflow.firstExecutionRunId,
      scheduled_at: a.scheduledAt.toISOString(),
      started_at: a.takenAt.toISOString(),
    })),
    overlap: overlapName(description.policies.overlap ?? OVERLAP_POLICIES.skip),
    input: args.input ?? {},
    running: description.info.runningActions.map((a) => a.workflow.workflowId),
    actions_taken: description.info.numActionsTaken,
    url: scheduleUrl(pc, description.scheduleId),
  };
}

/** The schedule's page in the Web UI. */
export function scheduleUrl(pc: PalletClient, scheduleId: string): string {
  const { uiUrl, temporal } = pc.services.settings;
  return `${uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
}

function overlapName(policy: string): OverlapName | string {
  const found = Object.entries(OVERLAP_POLICIES).find(([, p]) => p === policy);
  return found ? found[0] : policy.toLowerCase();
}

/** gRPC INVALID_ARGUMENT: the server refused the spec (a cron it cannot read, an interval too small). */
const GRPC_INVALID_ARGUMENT = 3;

/** The SDK's schedule errors, as messages that name the schedule and say what to do. */
export function scheduleError(err: unknown, opts: Partial<Pick<PalletScheduleOptions, 'cron' | 'everyMs'>> & { scheduleId: string }): unknown {
  const id = opts.scheduleId;
  if (err instanceof ScheduleAlreadyRunning) {
    return new Error(`schedule "${id}" exists already: see it with \`pallet schedule describe ${id}\`, or delete it first (\`pallet schedule delete ${id}\`)`);
  }
  if (err instanceof ScheduleNotFoundError) return new Error(`no schedule "${id}": \`pallet schedule list\` shows the schedules there are`);
  const what = opts.cron !== undefined ? `cron "${opts.cron}"` : `schedule "${id}"`;
  // The SDK turns the server's "Invalid schedule spec: ..." into a TypeError with the reason.
  if (err instanceof TypeError && (opts.cron !== undefined || opts.everyMs !== undefined)) return new Error(`Temporal refused ${what}: ${err.message.trim()}`);
  if (err instanceof ServiceError && (err.cause as { code?: number } | undefined)?.code === GRPC_INVALID_ARGUMENT) {
    const details = (err.cause as { details?: string }).details ?? err.message;
    return new Error(`Temporal refused ${what}: ${details}`);
  }
  return err;
}
