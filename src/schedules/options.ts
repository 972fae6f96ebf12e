// What a Pallet schedule is, read from `pallet schedule create`'s options or a definition's
// `metadata.schedule` block: pure (no client), so that mistakes are told before anything connects.
import { DURATION_HELP, durationMs, showDuration } from '../dsl/durations';
import { jsonObjectOption } from '../cli/json-option';

/** What happens when a run is due while the schedule's last run still runs (Temporal's overlap policies). */
export const OVERLAP_POLICIES = { skip: 'SKIP', buffer: 'BUFFER_ONE', allow: 'ALLOW_ALL' } as const;
export type OverlapName = keyof typeof OVERLAP_POLICIES;

/** Temporal's smallest interval between two scheduled actions. */
export const MIN_INTERVAL_MS = 1_000;

/** A schedule of runs of one stored workflow. */
export interface PalletScheduleOptions {
  scheduleId: string;
  /** The workflow reference, as `pallet run --workflow` takes it. */
  workflow: string;
  /** Exactly one of `cron` and `everyMs`. */
  cron?: string;
  everyMs?: number;
  input: Record<string, unknown>;
  overlap: OverlapName;
  /** Resolve the reference at each run (its tag may move) instead of pinning the digest found at create time. */
  resolveEachRun: boolean;
}

/** `pallet schedule create`'s options, as commander gives them. */
export interface CreateFlags {
  workflow?: string;
  cron?: string;
  every?: string;
  input?: string;
  overlap?: string;
  resolveEachRun?: boolean;
}

/** The schedule `pallet schedule create ID ...` asks for; throws a message naming the flag at fault. */
export function scheduleFromFlags(scheduleId: string, flags: CreateFlags): PalletScheduleOptions {
  const id = checkScheduleId(scheduleId);
  if (!flags.workflow?.trim()) throw new Error('--workflow is required: the stored workflow to run, e.g. code-generation-v1 or code-generation:v2');
  return {
    scheduleId: id,
    workflow: flags.workflow.trim(),
    ...when(flags.cron, flags.every, '--cron', '--every'),
    input: flags.input === undefined ? {} : jsonObjectOption(flags.input, '--input'),
    overlap: overlapName(flags.overlap, '--overlap'),
    resolveEachRun: flags.resolveEachRun ?? false,
  };
}

/** A definition's `metadata.schedule` block (as the schema checked it), for `pallet push`: the schedule id is the workflow id. */
export interface ScheduleBlock {
  cron?: string;
  every?: string | number;
  input?: Record<string, unknown>;
  overlap?: OverlapName;
}

export function scheduleFromBlock(workflowId: string, workflow: string, block: ScheduleBlock): PalletScheduleOptions {
  return {
    scheduleId: checkScheduleId(workflowId),
    workflow,
    ...when(block.cron, block.every, 'schedule.cron', 'schedule.every'),
    input: block.input ?? {},
    overlap: overlapName(block.overlap, 'schedule.overlap'),
    resolveEachRun: false,
  };
}

/** "every 1 h" or "cron 0 9 * * MON-FRI", for lines people read. */
export function showWhen(opts: Pick<PalletScheduleOptions, 'cron' | 'everyMs'>): string {
  return opts.cron !== undefined ? `cron "${opts.cron}"` : `every ${showDuration(opts.everyMs ?? 0)}`;
}

function checkScheduleId(id: string): string {
  const trimmed = id?.trim();
  if (!trimmed) throw new Error('a schedule needs an id, e.g. `pallet schedule create nightly-review --workflow review-gate-v1 --every 24h`');
  if (/\s/.test(trimmed)) throw new Error(`schedule id "${trimmed}" must not contain spaces`);
  return trimmed;
}

function when(cron: string | undefined, every: string | number | undefined, cronName: string, everyName: string): { cron: string } | { everyMs: number } {
  if (cron !== undefined && every !== undefined) throw new Error(`give either ${cronName} or ${everyName}, not both`);
  if (cron !== undefined) return { cron: checkCron(cron, cronName) };
  if (every === undefined) throw new Error(`say when to run: ${cronName} "0 9 * * *" or ${everyName} 1h`);
  const ms = durationMs(every);
  if (ms === undefined) throw new Error(`${everyName} must be ${DURATION_HELP}, not ${JSON.stringify(every)}`);
  if (ms < MIN_INTERVAL_MS) throw new Error(`${everyName} must be at least 1s (Temporal's smallest interval), not ${JSON.stringify(every)}`);
  if (ms % 1000 !== 0) throw new Error(`${everyName} must be whole seconds (Temporal schedules count in seconds), not ${JSON.stringify(every)}`);
  return { everyMs: ms };
}

/**
 * The shape of a cron expression as Temporal reads it: 5 to 7 fields, or a shorthand such as
 * `@daily`, optionally after `CRON_TZ=<zone>`. The fields themselves are checked by the server.
 */
export function checkCron(cron: string, name = '--cron'): string {
  const text = cron.trim();
  const body = text.replace(/^(?:CRON_TZ|TZ)=\S+\s+/, '').replace(/\s*#.*$/, '');
  const fields = body.split(/\s+/).filter(Boolean);
  const shorthand = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(body) || /^@every\s+\S+/.test(body);
  if (!shorthand && (fields.length < 5 || fields.length > 7)) {
    throw new Error(
      `${name} "${cron}" is not a cron expression: give 5 fields (minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI"), 6 (with year) or 7 (with seconds first), or @daily, @hourly, ...`,
    );
  }
  return text;
}

function overlapName(value: string | undefined, name: string): OverlapName {
  if (value === undefined) return 'skip';
  const key = value.trim().toLowerCase();
  if (!Object.hasOwn(OVERLAP_POLICIES, key)) throw new Error(`${name} must be one of ${Object.keys(OVERLAP_POLICIES).join(', ')}, not "${value}"`);
  return key as OverlapName;
}
