// Schedules (docs/schedules.md) as a user meets them: the real `pallet` CLI (a separate
// process) against the shared Temporal dev server, a real OCI registry and a worker that pulls
// definitions from it. A schedule every 2 s runs the workflow until paused (the time-skipping
// test server has no schedules: the interval is real), each run pinned to the digest resolved
// at create time (or, with --resolve-each-run, the tag's digest when the run starts), shown by
// `pallet runs --schedule`; trigger, delete, the errors; and `pallet push` publishing a
// definition's `metadata.schedule` block.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { RunResult } from '../../src/dsl/types';
import { createRegistry } from '../../src/registry';
import { RegistryStore } from '../../src/sources/definitions';
import { startTestAgent, type TestAgent } from '../helpers/agents';
import { runCli, type CliResult } from '../helpers/cli';
import { startRegistry, type RunningRegistry } from '../helpers/registry';
import { temporalEnv } from '../helpers/temporal';
import { createTestWorker, uniqueId } from '../helpers/worker';
import type { ScheduleView } from '../../src/schedules/temporal';

const DIGEST = /sha256:[0-9a-f]{64}/;

/** A definition whose result says which version ran. */
const definition = (id: string, version: string, extra = '') => `metadata:
  id: ${id}
  name: Scheduled
  version: "${version}"${extra}
steps:
  - { id: greet, skill: echo, inputs: { text: "{{ workflow.input.text }}", version: "${version}" } }
`;

/** What `schedule describe --json` and `list --json` print. */
type ScheduleJson = ScheduleView;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function ok(res: CliResult, what: string): CliResult {
  assert.equal(res.code, 0, `${what} failed:\n${res.stdout}\n${res.stderr}`);
  return res;
}

describe('pallet schedule (Temporal Schedules)', function () {
  this.timeout(300_000);
  let temporal: TestWorkflowEnvironment;
  let registry: RunningRegistry;
  let agent: TestAgent;
  let worker: Worker;
  let running: Promise<void>;
  let env: Record<string, string>;
  let dir: string;
  const created: string[] = [];

  const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });
  const describeJson = async (id: string): Promise<ScheduleJson> => JSON.parse(ok(await cli(['schedule', 'describe', id, '--json']), 'describe').stdout);
  const handle = (id: string) => temporal.client.schedule.getHandle(id);
  /** The runs a schedule started, from the server's own count and list (describe is consistent, visibility is not). */
  const actions = async (id: string) => (await handle(id).describe()).info;

  /** Pushes `text` as file `name` and returns the digest push printed. */
  async function push(name: string, text: string): Promise<{ digest: string; res: CliResult }> {
    const file = path.join(dir, name);
    await writeFile(file, text);
    const res = ok(await cli(['push', file]), `push ${name}`);
    const digest = DIGEST.exec(res.stdout.split('\n').find((l) => l.startsWith(file)) ?? '')?.[0];
    assert.ok(digest, res.stdout);
    return { digest, res };
  }

  /** The result and memo of a scheduled run, once it completed. */
  async function completedRun(workflowId: string): Promise<{ result: RunResult; digest: unknown; memo: Record<string, unknown> }> {
    const h = temporal.client.workflow.getHandle(workflowId);
    const result = (await h.result()) as RunResult;
    const memo = (await h.describe()).memo ?? {};
    return { result, digest: memo.definitionDigest, memo };
  }

  before(async () => {
    temporal = await temporalEnv();
    registry = await startRegistry();
    const regEnv = { PALLET_REGISTRY: registry.host };
    agent = await startTestAgent('schedule-agent', { echo: (p) => ({ said: p.text, version: p.version }) });
    const made = await createTestWorker({ agentUrls: [agent.url], definitions: new RegistryStore(createRegistry(regEnv), registry.host) });
    worker = made.worker;
    running = worker.run();
    env = {
      ...regEnv,
      TEMPORAL_ADDRESS: temporal.address,
      PALLET_TASK_QUEUE: made.taskQueue,
      PALLET_AGENT_URLS: '',
      PALLET_REGISTRY_DISCOVERY: 'false',
      PALLET_WORKFLOWS_DIR: '',
      TEMPORAL_UI_URL: 'http://ui.example:8233',
    };
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-schedules-'));
  });

  after(async () => {
    for (const id of created)
      await handle(id)
        .delete()
        .catch(() => undefined);
    worker?.shutdown();
    await running;
    await agent?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs the workflow every 2 s, pinned to the digest of create time, until paused; trigger runs it once more; delete', async () => {
    const workflowId = uniqueId('every').replace(/-/g, '');
    const { digest: v1 } = await push('every.yaml', definition(`${workflowId}-v1`, '1'));
    const id = uniqueId('sched-every');
    created.push(id);
    const res = ok(await cli(['schedule', 'create', id, '--workflow', `${workflowId}-v1`, '--every', '2s', '--input', '{"text": "tick"}']), 'schedule create');
    assert.match(res.stdout, new RegExp(`^created schedule ${id}: ${workflowId}-v1 every 2 s, pinned to workflows/${workflowId}:v1 ${v1}`, 'm'));
    assert.match(res.stdout, new RegExp(`http://ui.example:8233/namespaces/default/schedules/${id}`));

    // The tag moves after create: the schedule's runs still run v1.
    const { digest: v2 } = await push('every.yaml', definition(`${workflowId}-v1`, '2'));
    assert.notEqual(v1, v2);

    const first = await until('two scheduled runs', async () => {
      const info = await actions(id);
      return info.recentActions.length >= 2 ? info.recentActions : undefined;
    });
    for (const action of first.slice(0, 2)) {
      const run = action.action.workflow.workflowId;
      assert.ok(run.startsWith(`${id}-`), run);
      const { result, digest, memo } = await completedRun(run);
      assert.deepEqual(result.final_output, { said: 'tick', version: '1' });
      assert.equal(digest, v1);
      assert.equal(memo.definitionRef, `workflows/${workflowId}:v1`);
    }

    // `pallet runs` shows them with the schedule's id (TemporalScheduledById), and --schedule filters by it.
    const runs = await until('the scheduled runs in visibility', async () => {
      const listed = ok(await cli(['runs', '--schedule', id, '--json']), 'runs --schedule');
      const rows = JSON.parse(listed.stdout) as { workflow_id: string; schedule_id: string | null; definition_digest: string | null }[];
      return rows.length >= 2 ? rows : undefined;
    });
    for (const row of runs) {
      assert.equal(row.schedule_id, id);
      assert.ok(row.workflow_id.startsWith(`${id}-`));
    }
    const table = ok(await cli(['runs', '--schedule', id]), 'runs').stdout;
    assert.match(table.split('\n')[0], /SCHEDULE/);
    assert.match(table, new RegExp(`${id}-\\S+\\s+\\w+.*\\s${id}\\s`));

    // Paused: no new runs, whatever the interval.
    ok(await cli(['schedule', 'pause', id, '--note', 'maintenance']), 'pause');
    const paused = await describeJson(id);
    assert.equal(paused.paused, true);
    assert.equal(paused.note, 'maintenance');
    assert.equal(paused.definition_digest, v1);
    assert.equal(paused.resolve_each_run, false);
    assert.equal(paused.when, 'every 2 s');
    assert.deepEqual(paused.input, { text: 'tick' });
    assert.equal(paused.overlap, 'skip');
    const takenWhenPaused = (await actions(id)).numActionsTaken;
    await new Promise((r) => setTimeout(r, 6_000));
    assert.equal((await actions(id)).numActionsTaken, takenWhenPaused, 'a paused schedule started a run');

    const listed = JSON.parse(ok(await cli(['schedule', 'list', '--json']), 'list').stdout) as ScheduleJson[];
    const mine = listed.find((s) => s.schedule_id === id);
    assert.ok(mine, `no ${id} in the list`);
    assert.equal(mine.paused, true);
    assert.equal(mine.definition_id, `${workflowId}-v1`);

    // Trigger: one run now, even paused, still pinned to v1.
    ok(await cli(['schedule', 'trigger', id]), 'trigger');
    const triggered = await until('the triggered run', async () => {
      const info = await actions(id);
      return info.numActionsTaken === takenWhenPaused + 1 ? info.recentActions.at(-1) : undefined;
    });
    assert.deepEqual((await completedRun(triggered.action.workflow.workflowId)).result.final_output, { said: 'tick', version: '1' });

    ok(await cli(['schedule', 'unpause', id]), 'unpause');
    assert.equal((await describeJson(id)).paused, false);

    const deleted = ok(await cli(['schedule', 'delete', id]), 'delete');
    assert.match(deleted.stdout, new RegExp(`deleted schedule ${id}`));
    const gone = await cli(['schedule', 'describe', id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`no schedule "${id}"`));
    // The runs are kept.
    assert.equal((await temporal.client.workflow.getHandle(triggered.action.workflow.workflowId).describe()).status.name, 'COMPLETED');
  });

  it('--resolve-each-run: each run resolves the tag when it starts', async () => {
    const workflowId = uniqueId('moving').replace(/-/g, '');
    const { digest: v1 } = await push('moving.yaml', definition(`${workflowId}-v1`, '1'));
    const id = uniqueId('sched-moving');
    created.push(id);
    const res = ok(
      await cli([
        'schedule',
        'create',
        id,
        '--workflow',
        `${workflowId}-v1`,
        '--cron',
        '0 0 1 1 *',
        '--input',
        '{"text": "x"}',
        '--resolve-each-run',
        '--json',
      ]),
      'create --resolve-each-run',
    );
    const view = JSON.parse(res.stdout) as ScheduleJson;
    assert.equal(view.resolve_each_run, true);
    assert.equal(view.definition_digest, null);
    assert.equal(view.when, 'cron "0 0 1 1 *"');
    assert.match(view.next_runs[0], /-01-01T00:00:00/);

    ok(await cli(['schedule', 'trigger', id]), 'trigger');
    const firstRun = await until('the first run', async () => (await actions(id)).recentActions[0]);
    const one = await completedRun(firstRun.action.workflow.workflowId);
    assert.equal(one.digest, v1);
    assert.deepEqual(one.result.final_output, { said: 'x', version: '1' });

    const { digest: v2 } = await push('moving.yaml', definition(`${workflowId}-v1`, '2'));
    ok(await cli(['schedule', 'trigger', id]), 'trigger');
    const secondRun = await until('the second run', async () => (await actions(id)).recentActions[1]);
    const two = await completedRun(secondRun.action.workflow.workflowId);
    assert.equal(two.digest, v2);
    assert.deepEqual(two.result.final_output, { said: 'x', version: '2' });
  });

  it('errors: a schedule that exists, an unknown workflow, a cron the server refuses, a schedule that does not exist', async () => {
    const workflowId = uniqueId('errs').replace(/-/g, '');
    await push('errs.yaml', definition(`${workflowId}-v1`, '1'));
    const id = uniqueId('sched-errs');
    created.push(id);
    ok(await cli(['schedule', 'create', id, '--workflow', `${workflowId}-v1`, '--every', '1h']), 'create');

    const again = await cli(['schedule', 'create', id, '--workflow', `${workflowId}-v1`, '--every', '1h']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`schedule "${id}" exists already`));

    const unknown = await cli(['schedule', 'create', uniqueId('sched-unknown'), '--workflow', 'no-such-workflow-v1', '--every', '1h']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown workflow "no-such-workflow-v1"/);

    const badCron = await cli(['schedule', 'create', uniqueId('sched-cron'), '--workflow', `${workflowId}-v1`, '--cron', '99 99 * * *']);
    assert.equal(badCron.code, 1);
    assert.match(badCron.stderr, /Temporal refused cron "99 99 \* \* \*"/);

    const shape = await cli(['schedule', 'create', uniqueId('sched-cron'), '--workflow', `${workflowId}-v1`, '--cron', 'daily']);
    assert.equal(shape.code, 1);
    assert.match(shape.stderr, /--cron "daily" is not a cron expression/);

    // pause and unpause find the schedule as these do (existingSchedule).
    const verbs = ['describe', 'trigger', 'delete'];
    const missing = await Promise.all(verbs.map((verb) => cli(['schedule', verb, 'no-such-schedule'])));
    missing.forEach((res, i) => {
      assert.equal(res.code, 1, verbs[i]);
      assert.match(res.stderr, /no schedule "no-such-schedule": `pallet schedule list` shows the schedules there are/, verbs[i]);
    });
  });

  it("pallet push publishes a definition's metadata.schedule block: created, then updated to the new digest, its pause kept", async () => {
    const workflowId = `${uniqueId('pushed').replace(/-/g, '')}-v1`;
    const block = (every: string) => `\n  schedule: { every: ${every}, input: { text: scheduled }, overlap: buffer }`;
    created.push(workflowId);
    const { digest: v1, res } = await push('pushed.yaml', definition(workflowId, '1', block('1h')));
    assert.match(res.stdout, new RegExp(`schedule ${workflowId}: created, every 1 h, pinned to ${v1.slice(0, 19)}`));
    const first = await describeJson(workflowId);
    assert.equal(first.definition_digest, v1);
    assert.equal(first.definition_ref, `workflows/${workflowId.replace(/-v1$/, '')}:v1`);
    assert.deepEqual(first.input, { text: 'scheduled' });
    assert.equal(first.overlap, 'buffer');

    ok(await cli(['schedule', 'pause', workflowId]), 'pause');
    // The text forms: describe's lines, list's row.
    const text = ok(await cli(['schedule', 'describe', workflowId]), 'describe').stdout;
    for (const line of [
      `schedule    ${workflowId}`,
      `definition  workflows/${workflowId.replace(/-v1$/, '')}:v1 ${v1}`,
      'when        every 1 h',
      'overlap     buffer',
      'input       {"text":"scheduled"}',
      'state       paused (paused with `pallet schedule pause`)',
      'next runs   -',
    ])
      assert.ok(text.includes(`${line}\n`), `no line "${line}" in:\n${text}`);
    const table = ok(await cli(['schedule', 'list']), 'list').stdout;
    assert.match(table.split('\n')[0], /^ID\s+WORKFLOW\s+WHEN\s+STATE\s+NEXT RUN\s+DEFINITION$/);
    assert.match(table, new RegExp(`^${workflowId}\\s+${workflowId}\\s+every 1 h\\s+paused\\s+-\\s+${v1.slice(0, 19)}$`, 'm'));
    const { digest: v2, res: again } = await push('pushed.yaml', definition(workflowId, '2', block('2h')));
    assert.match(again.stdout, new RegExp(`schedule ${workflowId}: updated, every 2 h, pinned to ${v2.slice(0, 19)}`));
    const second = await describeJson(workflowId);
    assert.equal(second.definition_digest, v2);
    assert.equal(second.when, 'every 2 h');
    assert.equal(second.paused, true, 'the update unpaused the schedule');

    // Its run runs what was pushed last.
    ok(await cli(['schedule', 'trigger', workflowId]), 'trigger');
    const run = await until('the run', async () => (await actions(workflowId)).recentActions[0]);
    const done = await completedRun(run.action.workflow.workflowId);
    assert.equal(done.digest, v2);
    assert.deepEqual(done.result.final_output, { said: 'scheduled', version: '2' });
  });
});
