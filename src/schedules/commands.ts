// The verbs of `pallet schedule`: each connects, does one thing to a Temporal schedule and
// prints it (a line for people, or JSON). Loaded by cli/schedules.ts only when a verb runs.
import { connectClient, type PalletClient } from '../client';
import { clientServices } from '../client-services';
import { scheduleFromFlags, type CreateFlags } from './options';
import { createSchedule, describeView, existingSchedule, listSchedules, scheduleError, scheduleUrl, type ScheduleView } from './temporal';

async function withClient(body: (pc: PalletClient) => Promise<void>): Promise<void> {
  const services = clientServices();
  try {
    await body(await connectClient(services));
  } finally {
    await services.close();
  }
}

export async function createCommand(id: string, flags: CreateFlags & { json?: boolean }): Promise<void> {
  // Checked before connecting: a mistake in the flags is told at once.
  const opts = scheduleFromFlags(id, flags);
  await withClient(async (pc) => {
    const { handle } = await createSchedule(pc, opts);
    const view = describeView(pc, await handle.describe());
    if (flags.json) return console.log(JSON.stringify(view, null, 2));
    const runs = view.resolve_each_run
      ? `resolving ${view.definition_ref} at each run`
      : `pinned to ${view.definition_ref} ${view.definition_digest ?? '(inline)'}`;
    console.log(`created schedule ${view.schedule_id}: ${view.definition_id} ${view.when}, ${runs}`);
    if (view.next_runs[0]) console.log(`  next run: ${view.next_runs[0]}`);
    console.log(`  ${view.url}`);
  });
}

export async function listCommand(opts: { json?: boolean }): Promise<void> {
  await withClient(async (pc) => {
    const views = await listSchedules(pc);
    if (opts.json) return console.log(JSON.stringify(views, null, 2));
    if (!views.length) return console.log('no Pallet schedules; create one with `pallet schedule create ID --workflow REF --every 1h`');
    const table = [
      ['ID', 'WORKFLOW', 'WHEN', 'STATE', 'NEXT RUN', 'DEFINITION'],
      ...views.map((v) => [
        v.schedule_id,
        v.definition_id ?? '-',
        v.when ?? '-',
        v.paused ? 'paused' : 'active',
        v.paused ? '-' : (v.next_runs[0]?.replace(/\.\d+Z$/, 'Z') ?? '-'),
        v.resolve_each_run ? `${v.definition_ref} (each run)` : (v.definition_digest?.slice(0, 19) ?? v.definition_ref ?? '-'),
      ]),
    ];
    printTable(table);
  });
}

export async function describeCommand(id: string, opts: { json?: boolean }): Promise<void> {
  await withClient(async (pc) => {
    const view = describeView(pc, (await existingSchedule(pc, id)).description);
    if (opts.json) return console.log(JSON.stringify(view, null, 2));
    printView(view);
  });
}

export async function pauseCommand(id: string, opts: { note?: string }): Promise<void> {
  await withClient(async (pc) => {
    const { handle } = await existingSchedule(pc, id);
    await handle.pause(opts.note ?? 'paused with `pallet schedule pause`');
    console.log(`paused schedule ${id}: no new runs until \`pallet schedule unpause ${id}\` (runs under way go on)`);
  });
}

export async function unpauseCommand(id: string, opts: { note?: string }): Promise<void> {
  await withClient(async (pc) => {
    const { handle } = await existingSchedule(pc, id);
    await handle.unpause(opts.note ?? 'unpaused with `pallet schedule unpause`');
    const next = (await handle.describe()).info.nextActionTimes[0];
    console.log(`unpaused schedule ${id}${next ? `: next run ${next.toISOString()}` : ''}`);
  });
}

export async function triggerCommand(id: string): Promise<void> {
  await withClient(async (pc) => {
    const { handle } = await existingSchedule(pc, id);
    // Now, whatever the overlap policy: a run asked for by hand is wanted.
    await handle.trigger().catch((err: unknown) => {
      throw scheduleError(err, { scheduleId: id });
    });
    console.log(`triggered schedule ${id}: a run starts now (\`pallet runs --schedule ${id}\`)`);
    console.log(`  ${scheduleUrl(pc, id)}`);
  });
}

export async function deleteCommand(id: string): Promise<void> {
  await withClient(async (pc) => {
    const { handle } = await existingSchedule(pc, id);
    await handle.delete().catch((err: unknown) => {
      throw scheduleError(err, { scheduleId: id });
    });
    console.log(`deleted schedule ${id} (its runs, finished or under way, are kept)`);
  });
}

function printView(v: ScheduleView): void {
  const lines: [string, string][] = [
    ['schedule', v.schedule_id],
    ['workflow', `${v.definition_id ?? '-'}${v.workflow && v.workflow !== v.definition_id ? ` (as ${v.workflow})` : ''}`],
    ['definition', v.resolve_each_run ? `${v.definition_ref} (resolved at each run)` : `${v.definition_ref ?? '-'} ${v.definition_digest ?? '(inline)'}`],
    ['when', v.when ?? '-'],
    ['overlap', v.overlap],
    ['input', JSON.stringify(v.input)],
    ['state', v.paused ? `paused${v.note ? ` (${v.note})` : ''}` : 'active'],
    ['next runs', v.paused ? '-' : v.next_runs.slice(0, 3).join(', ') || '-'],
    ['runs taken', String(v.actions_taken)],
    ['running', v.running.join(', ') || '-'],
  ];
  for (const [key, value] of lines) console.log(`${key.padEnd(11)} ${value}`);
  if (v.recent_runs.length) {
    console.log('recent runs');
    for (const r of v.recent_runs.slice(-5)) console.log(`  ${r.workflow_id}  started ${r.started_at}`);
  }
  console.log(v.url);
}

function printTable(table: string[][]): void {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '));
}
