// The run lifecycle from the command line, with or without a worker: `status` (the live
// `state` query while a worker answers, else the server's history), `result`, `runs`,
// `cancel` and `terminate`.
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { connectClient, PALLET_WORKFLOW_TYPE, uiLink, type PalletClient } from '../client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { PalletSearchAttributes, stateQuery, type RunState } from '../contract';
import { clientServices } from '../client-services';
import { viewFromHistory, type HistoryView, type StepView } from '../history/view';
import { describeClaims } from '../claims';
import { preview as previewJson } from './preview';

/** A value's preview, a large value kept in the registry shown as `<52.4 MB at sha256:…>`. */
function preview(value: unknown): string {
  return previewJson(describeClaims(value));
}

/** How long `status` waits for a worker to answer the `state` query of a running run. */
const QUERY_TIMEOUT_MS = 5_000;
/** How long `cancel` waits for the run to stop before saying the request is pending. */
const CANCEL_WAIT_MS = 10_000;
/** `runs` sorts at most this many of the newest matching runs by start time. */
const RUNS_SCAN = 1_000;

/** A command body with a connected client; the connection is closed when it returns. */
export function withServices<A extends unknown[]>(body: (pc: PalletClient, ...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const services = clientServices();
    try {
      await body(await connectClient(services), ...args);
    } finally {
      await services.close();
    }
  };
}

async function describe(pc: PalletClient, workflowId: string, runId?: string): Promise<WorkflowExecutionDescription> {
  return pc.client.workflow
    .getHandle(workflowId, runId)
    .describe()
    .catch((err: Error) => {
      if (err.name === 'WorkflowNotFoundError') throw new Error(`no run ${workflowId}${runId ? ` (run ${runId})` : ''} on the server`);
      throw err;
    });
}

/** Pending activity states (temporal.api.enums.v1.PendingActivityState). */
const PENDING_STARTED = 2;

export async function statusCommand(pc: PalletClient, workflowId: string, opts: { runId?: string; json?: boolean }): Promise<void> {
  const description = await describe(pc, workflowId, opts.runId);
  const handle = pc.client.workflow.getHandle(workflowId, description.runId);
  const running = description.status.name === 'RUNNING';
  let state: RunState | null | undefined;
  let note: string | undefined;
  if (running) {
    const { connection } = await pc.services.temporal();
    try {
      state = await connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(stateQuery));
    } catch (err) {
      note = `no worker answered the state query within ${QUERY_TIMEOUT_MS / 1000} s (${(err as Error).message.split('\n')[0]}); this is what the server's history says`;
    }
  }
  const view = await viewFromHistory(await handle.fetchHistory(), workflowId);
  view.status = description.status.name;
  const whole = await wholeRun(pc, workflowId, view);
  // A step under way has no started event in the history until it ends: the server's pending
  // activities say which attempt it is on and why the last one failed.
  for (const pending of description.raw.pendingActivities ?? []) {
    const step = view.steps.find((s) => s.id === pending.activityId && (s.state === 'scheduled' || s.state === 'running'));
    if (!step) continue;
    step.attempts = pending.attempt ?? step.attempts;
    if (pending.state === PENDING_STARTED) step.state = 'running';
    if (pending.lastFailure?.message) step.error = `last attempt: ${pending.lastFailure.message}`;
  }
  const memo = description.memo ?? {};
  const definition = {
    id: memo.definitionId ?? null,
    name: memo.definitionName ?? null,
    version: memo.definitionVersion ?? null,
    ref: memo.definitionRef ?? null,
    digest: memo.definitionDigest ?? null,
  };
  const link = uiLink(pc, workflowId, description.runId);
  const runningIds = state ? state.running : view.running;
  const finished = state ? state.finished : view.finished;
  const stepOutputs = state ? state.step_outputs : outputsOf(view);
  if (opts.json) {
    const out: Record<string, unknown> = {
      workflow_id: workflowId,
      run_id: description.runId,
      status: view.status,
      source: state !== undefined ? 'query' : 'history',
      ...(note ? { note } : {}),
      definition,
      start_time: view.start_time ?? null,
      close_time: view.close_time ?? null,
      duration_ms: view.duration_ms ?? null,
      // A run that continued as new: since its first generation started, and how many there are.
      ...(whole ? { run_start_time: whole.start_time, run_duration_ms: whole.duration_ms, generation_count: whole.generations } : {}),
      running: runningIds,
      finished,
      steps: view.steps,
      step_outputs: stepOutputs,
      ...(state ? { containers: state.containers, pinned: state.pinned, recovered: state.recovered ?? {}, compensated: state.compensated ?? [] } : {}),
      ...(state || view.waiting ? { waiting: state?.waiting ?? view.waiting ?? [] } : {}),
      ...(state?.asking || view.asking ? { asking: state?.asking ?? view.asking ?? [] } : {}),
      ...(view.sleeping ? { sleeping: view.sleeping } : {}),
      // snake_case, as the failure object of `run --json` and `result --json`.
      ...(view.failure
        ? {
            failure: {
              message: view.failure.message,
              type: view.failure.type ?? null,
              step: view.failure.step?.stepId ?? null,
              within: view.failure.step?.within ?? [],
            },
          }
        : {}),
      ...(view.generations?.length ? { generations: view.generations } : {}),
      ...(view.cancel_requested_at ? { cancel_requested_at: view.cancel_requested_at } : {}),
      ...(view.result ? { result: view.result } : {}),
      url: link,
    };
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(`${workflowId} (run ${description.runId}): ${view.status}`);
  if (definition.id) console.log(`  definition: ${[definition.id, definition.version, definition.digest].filter(Boolean).map(String).join(' ')}`);
  if (whole)
    console.log(
      `  started ${whole.start_time ?? '?'}, ${view.close_time ? 'took' : 'running for'} ${seconds(whole.duration_ms)} in ${whole.generations} generations`,
    );
  else if (view.start_time) console.log(`  started ${view.start_time}, ${view.close_time ? 'took' : 'running for'} ${seconds(view.duration_ms)}`);
  if (view.generations?.length) {
    const sizes = view.generations.map((g) => `${g.events.toLocaleString('en-US')} events`);
    const shownSizes = sizes.length > 5 ? [...sizes.slice(0, 2), `… (${sizes.length - 4} more)`, ...sizes.slice(-2)] : sizes;
    console.log(
      `  this is generation ${view.generations.length + 1}, since ${view.start_time} (earlier: ${shownSizes.join(', ')}); steps finished before are "carried"`,
    );
  }
  if (note) console.log(`  ${note}`);
  if (view.cancel_requested_at) console.log(`  cancellation requested at ${view.cancel_requested_at}`);
  if (running && state === null) console.log('  the definition is still loading');
  console.log(`  running:  ${counted(runningIds)}`);
  console.log(`  finished: ${counted(finished)}`);
  if (state?.reused.length) console.log(`  reused from an earlier run: ${counted(state.reused)}`);
  const shown = view.steps.filter((s) => s.kind !== 'definition' || s.state !== 'completed');
  if (shown.length) {
    // The steps that say most: those not finished, then the latest finished ones.
    const open = shown.filter((s) => !['completed', 'carried', 'reused'].includes(s.state));
    const lines = open.length >= MAX_LINES ? open.slice(0, MAX_LINES) : [...shown.filter((s) => !open.includes(s)).slice(-(MAX_LINES - open.length)), ...open];
    console.log(`  steps${shown.length > lines.length ? ` (${lines.length} of ${shown.length.toLocaleString('en-US')})` : ''}:`);
    const width = Math.max(...lines.map((s) => s.id.length));
    for (const s of shown.filter((x) => lines.includes(x))) console.log(`    ${stepLine(s, width)}`);
    if (shown.length > lines.length) console.log(`    and ${(shown.length - lines.length).toLocaleString('en-US')} more (\`--json\` has them all)`);
  }
  for (const [id, c] of Object.entries(state?.containers ?? {})) {
    if (c.step_type !== 'parallel')
      console.log(`  ${id} (${c.step_type}): ${c.branch === null ? 'no branch ran' : `ran ${c.branch}`} (value ${preview(c.value)})`);
  }
  for (const [id, source] of Object.entries(state?.pinned ?? {})) console.log(`  ${id} runs ${source.ref} ${source.digest}`);
  for (const [id, how] of Object.entries(state?.recovered ?? {}))
    console.log(`  ${id} failed; ${how === 'on_error' ? 'its on_error steps stood in' : 'continue_on_error: its error is its output'}`);
  if (state?.compensated?.length) console.log(`  compensated (undone, latest first): ${state.compensated.join(', ')}`);
  for (const a of state?.asking ?? view.asking ?? [])
    console.log(
      `  ${a.step}: input required: ${JSON.stringify(a.question)} since ${a.since}${a.timeout_at ? `, until ${a.timeout_at}` : ''}: \`pallet reply ${workflowId} ${a.step} --text ...\``,
    );
  for (const w of state?.waiting ?? view.waiting ?? [])
    console.log(
      `  ${w.step} is waiting for event "${w.event}" since ${w.since}${w.timeout_at ? `, until ${w.timeout_at}` : ''}: \`pallet approve ${workflowId} ${w.event}\` (or --reject)`,
    );
  for (const s of view.sleeping ?? []) console.log(`  ${s.step} is sleeping until ${s.until}`);
  const outputs = Object.entries(stepOutputs);
  for (const [id, { outputs: value }] of outputs.slice(-MAX_LINES)) console.log(`  ${id}: ${preview(value)}`);
  if (outputs.length > MAX_LINES)
    console.log(`  (the outputs of the last ${MAX_LINES} of ${outputs.length.toLocaleString('en-US')} steps; \`--json\` has them all)`);
  if (view.result) console.log(`  final output: ${preview(view.result.final_output)}`);
  const error = view.failure?.message ?? state?.error;
  if (error) console.log(`  error: ${error}`);
  console.log(`  ${link}`);
}

/** Step lines (and outputs) the human output of `status` shows at most; `--json` has them all. */
const MAX_LINES = 20;
/** Ids shown after a count: the last few. */
const LAST_IDS = 3;

/** A list of step ids for one line: all of a few; of many, the count and the last few. */
export function counted(ids: string[]): string {
  if (ids.length === 0) return '-';
  if (ids.length <= LAST_IDS * 2) return ids.join(', ');
  return `${ids.length.toLocaleString('en-US')} steps (…, ${ids.slice(-LAST_IDS).join(', ')})`;
}

/**
 * A run that continued as new, as a whole: since its first generation started (each
 * generation's `started_at`; for runs recorded before it, the first run's description), and
 * how many generations it has. Undefined for a run of one generation.
 */
async function wholeRun(
  pc: PalletClient,
  workflowId: string,
  view: HistoryView,
): Promise<{ start_time?: string; duration_ms?: number; generations: number } | undefined> {
  if (!view.generations?.length) return undefined;
  let start = (view.generations[0] as { started_at?: string }).started_at;
  if (!start && view.first_run_id) {
    const first = await pc.client.workflow
      .getHandle(workflowId, view.first_run_id)
      .describe()
      .catch(() => undefined);
    start = first?.startTime.toISOString();
  }
  const startMs = start ? Date.parse(start) : NaN;
  const endMs = view.close_time ? Date.parse(view.close_time) : Date.now();
  return { start_time: start, duration_ms: Number.isNaN(startMs) ? undefined : endMs - startMs, generations: view.generations.length + 1 };
}

function outputsOf(view: HistoryView): Record<string, { outputs: unknown }> {
  if (view.result) return view.result.step_outputs;
  const out: Record<string, { outputs: unknown }> = {};
  for (const s of view.steps) if (s.kind !== 'definition' && (s.state === 'completed' || s.state === 'reused')) out[s.id] = { outputs: s.outputs };
  return out;
}

function stepLine(s: StepView, width: number): string {
  const parts = [s.id.padEnd(width), s.kind === 'agent' ? '' : `(${s.kind})`, s.state];
  if (s.state !== 'reused') parts.push(`${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`);
  if (s.duration_ms !== undefined) parts.push(seconds(s.duration_ms));
  if (s.agent) parts.push(`by ${s.agent}`);
  if (s.error) parts.push(`- ${s.error}`);
  return parts.filter(Boolean).join('  ');
}

function seconds(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export async function resultCommand(
  pc: PalletClient,
  workflowId: string,
  opts: { runId?: string; json?: boolean; appDir?: string; appWriter?: string },
): Promise<void> {
  // Loaded here: `run`'s reporting (app files, claims) is not needed by the other verbs.
  const { appOptions, followRun, reportCompleted, reportFailure } = await import('./run');
  const app = await appOptions(opts, pc.services.settings);
  const description = await describe(pc, workflowId, opts.runId);
  const handle = pc.client.workflow.getHandle(workflowId, description.runId);
  const link = uiLink(pc, workflowId, description.runId);
  const log = opts.json ? (s: string) => console.error(s) : (s: string) => console.log(s);
  const running = description.status.name === 'RUNNING';
  if (running) log(`following ${workflowId} (running; Ctrl-C stops following, not the run)\n  ${link}`);
  let followed;
  try {
    followed = await followRun(handle, !opts.json && running, log);
  } catch (err) {
    reportFailure(err, workflowId, link, opts.json, { runId: description.runId });
    return;
  }
  const memo = description.memo ?? {};
  const source =
    typeof memo.definitionRef === 'string'
      ? { ref: memo.definitionRef, digest: typeof memo.definitionDigest === 'string' ? memo.definitionDigest : '' }
      : undefined;
  await reportCompleted(followed.result, { workflowId, runId: description.runId, link, source, json: opts.json, lastState: followed.last, ...app });
}

/** `--status` words to visibility's ExecutionStatus values. */
const STATUSES: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  timed_out: 'TimedOut',
  timedout: 'TimedOut',
  'continued-as-new': 'ContinuedAsNew',
};

/**
 * The visibility query of `runs`. `definition` filters by the PalletDefinitionId search
 * attribute, so pass it only when the server has it (Services.searchAttributesRegistered).
 */
export function runsQuery(status?: string, definition?: string, schedule?: string): string {
  let query = `WorkflowType = '${PALLET_WORKFLOW_TYPE}'`;
  if (status) {
    const wanted = status
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const values = wanted.map((s) => {
      const v = STATUSES[s];
      if (!v) throw new Error(`unknown status "${s}"; use ${['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed-out'].join(', ')}`);
      return `ExecutionStatus = '${v}'`;
    });
    if (values.length) query += ` AND (${[...new Set(values)].join(' OR ')})`;
  }
  if (definition !== undefined) query += ` AND ${PalletSearchAttributes.definitionId.name} = ${quoted(definition)}`;
  if (schedule !== undefined) query += ` AND ${SCHEDULED_BY.name} = ${quoted(schedule)}`;
  return query;
}

/** Temporal's own attribute of a run a schedule started: the schedule's id. */
const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/** A string literal of the visibility query language. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export async function runsCommand(
  pc: PalletClient,
  opts: { status?: string; limit: string; definition?: string; schedule?: string; children?: boolean; json?: boolean },
): Promise<void> {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive whole number, not "${opts.limit}"`);
  const definition = opts.definition?.trim();
  if (opts.definition !== undefined && !definition) throw new Error('--definition needs a definition id, e.g. code-generation-v1');
  // By the search attribute when the server has it; else by the memo, among the runs scanned.
  const indexed = definition !== undefined && (await pc.services.searchAttributesRegistered());
  if (definition !== undefined && !indexed && !opts.json) {
    console.error(
      `note: the server has no ${PalletSearchAttributes.definitionId.name} search attribute (docs/operations.md#search-attributes); filtering the newest ${RUNS_SCAN} runs by their memo`,
    );
  }
  const query = runsQuery(opts.status, indexed ? definition : undefined, opts.schedule?.trim() || undefined);
  const found = [];
  for await (const info of pc.client.workflow.list({ query, pageSize: 100 })) {
    if (info.parentExecution && !opts.children) continue;
    if (definition !== undefined && !indexed && info.memo?.definitionId !== definition) continue;
    found.push(info);
    if (found.length >= RUNS_SCAN) break;
  }
  found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  const now = Date.now();
  const rows = found.slice(0, limit).map((info) => ({
    workflow_id: info.workflowId,
    run_id: info.runId,
    status: info.status.name,
    /** PalletStatus: the interpreter's view (loading, running, completed, failed, cancelled), when the server keeps it. */
    pallet_status: info.typedSearchAttributes?.get(PalletSearchAttributes.status) ?? null,
    definition_id: (info.memo?.definitionId as string | undefined) ?? info.typedSearchAttributes?.get(PalletSearchAttributes.definitionId) ?? null,
    definition_version: (info.memo?.definitionVersion as string | undefined) ?? null,
    definition_digest: (info.memo?.definitionDigest as string | undefined) ?? info.typedSearchAttributes?.get(PalletSearchAttributes.definitionDigest) ?? null,
    start_time: info.startTime.toISOString(),
    close_time: info.closeTime?.toISOString() ?? null,
    duration_ms: (info.closeTime?.getTime() ?? now) - info.startTime.getTime(),
    /** The schedule that started the run (docs/schedules.md). */
    schedule_id: info.typedSearchAttributes?.get(SCHEDULED_BY) ?? null,
    ...(info.parentExecution ? { parent_workflow_id: info.parentExecution.workflowId } : {}),
  }));
  if (opts.json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (!rows.length) {
    const filters = [
      opts.status ? `with status ${opts.status}` : '',
      definition !== undefined ? `of definition ${definition}` : '',
      opts.schedule ? `of schedule ${opts.schedule}` : '',
    ].filter(Boolean);
    console.log(`no Pallet runs${filters.length ? ` ${filters.join(' ')}` : ''}`);
    return;
  }
  // The Pallet column only when some run has a PalletStatus (servers without the attribute have none).
  const palletColumn = rows.some((r) => r.pallet_status !== null);
  const scheduleColumn = rows.some((r) => r.schedule_id !== null);
  const table = [
    ['ID', 'STATUS', ...(palletColumn ? ['PALLET'] : []), 'DEFINITION', 'STARTED', 'DURATION', ...(scheduleColumn ? ['SCHEDULE'] : [])],
    ...rows.map((r) => [
      r.workflow_id,
      r.status,
      ...(palletColumn ? [r.pallet_status ?? '-'] : []),
      [r.definition_id, r.definition_version].filter(Boolean).join(' ') || '-',
      r.start_time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      `${seconds(r.duration_ms)}${r.close_time ? '' : ' (running)'}`,
      ...(scheduleColumn ? [r.schedule_id ?? '-'] : []),
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '));
}

async function runningHandle(pc: PalletClient, workflowId: string, runId: string | undefined, verb: string) {
  const description = await describe(pc, workflowId, runId);
  const status = description.status.name;
  if (status !== 'RUNNING') throw new Error(`${workflowId} is ${status.toLowerCase().replace(/_/g, ' ')}; only a running run can be ${verb}`);
  return { handle: pc.client.workflow.getHandle(workflowId, description.runId), runId: description.runId };
}

export async function cancelCommand(pc: PalletClient, workflowId: string, opts: { runId?: string; json?: boolean }): Promise<void> {
  const { handle, runId } = await runningHandle(pc, workflowId, opts.runId, 'cancelled');
  await handle.cancel();
  const { connection } = await pc.services.temporal();
  await connection.withDeadline(Date.now() + CANCEL_WAIT_MS, () => handle.result()).catch(() => undefined);
  const status = (await handle.describe()).status.name;
  if (status === 'RUNNING') {
    const message = `cancellation of ${workflowId} requested; the run stops when a worker takes the request up (\`npx pallet status ${workflowId}\`)`;
    if (opts.json) console.log(JSON.stringify({ workflow_id: workflowId, run_id: runId, status, cancel_requested: true, message }, null, 2));
    else console.log(message);
    return;
  }
  const failure = status === 'CANCELLED' ? undefined : (await viewFromHistory(await handle.fetchHistory(), workflowId)).failure;
  if (opts.json)
    console.log(
      JSON.stringify({ workflow_id: workflowId, run_id: runId, status, cancel_requested: true, ...(failure ? { error: failure.message } : {}) }, null, 2),
    );
  else console.log(`${workflowId} (run ${runId}): ${status} after the cancellation${failure ? `: ${failure.message}` : ''}`);
}

export async function terminateCommand(pc: PalletClient, workflowId: string, opts: { runId?: string; reason?: string; json?: boolean }): Promise<void> {
  const { handle, runId } = await runningHandle(pc, workflowId, opts.runId, 'terminated');
  await handle.terminate(opts.reason ?? 'terminated with `pallet terminate`');
  if (opts.json) console.log(JSON.stringify({ workflow_id: workflowId, run_id: runId, status: 'TERMINATED', reason: opts.reason ?? null }, null, 2));
  else console.log(`${workflowId} (run ${runId}): TERMINATED${opts.reason ? ` (${opts.reason})` : ''}`);
}
