// Waits for the cluster script's runs to close, then checks that each one completed and that
// nothing was called twice, from two independent records:
//   - the server's history of each run: every activity was scheduled once (a retry is an
//     attempt of the same scheduled activity, never a second one) and closed once;
//   - the agents' side (call-counter.mjs's log of every POST /execute): each call id
//     (Idempotency-Key `<workflow id>/<first run id>/<step>`) got its answer worked out at most
//     once; a repeat after a killed worker or a server restart must be answered from the
//     agent's replay cache (`idempotent-replayed`), never done again. A call that failed is
//     not cached, so the retry of a failed call (a step's retry policy) is not a repeat.
// Prints one line per run and a summary; exits 1 on any failure.
//
//   node scripts/cluster/check-runs.mjs <ids file> <calls log> [timeout seconds]
// TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE say where the runs are.
import { readFileSync } from 'node:fs';
import { Connection, Client } from '@temporalio/client';

const [idsFile, callsLog, timeoutArg] = process.argv.slice(2);
if (!idsFile || !callsLog) {
  console.error('usage: check-runs.mjs <ids file> <calls log> [timeout seconds]');
  process.exit(2);
}
const deadline = Date.now() + Number(timeoutArg ?? 600) * 1000;
const ids = readFileSync(idsFile, 'utf8').split('\n').filter(Boolean);

const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });

// 1. Wait until every run is closed (or the deadline passes).
for (;;) {
  const open = [];
  for (const id of ids) {
    const { status } = await client.workflow.getHandle(id).describe();
    if (status.name === 'RUNNING') open.push(id);
  }
  if (open.length === 0) break;
  if (Date.now() > deadline) {
    console.error(`check: ${open.length} run(s) still running after the deadline: ${open.join(', ')}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1000));
}

// 2. The agents' record of calls, by call id.
const calls = new Map();
for (const line of readFileSync(callsLog, 'utf8').split('\n').filter(Boolean)) {
  const call = JSON.parse(line);
  if (!call.key) continue;
  const seen = calls.get(call.key) ?? { worked: 0, replayed: 0, failed: 0 };
  if (!call.ok) seen.failed++;
  else if (call.replayed) seen.replayed++;
  else seen.worked++;
  calls.set(call.key, seen);
}

const failures = [];
const totals = { runs: 0, activities: 0, agentCalls: 0, retriedAttempts: 0, replayed: 0, failedCalls: 0 };
for (const id of ids) {
  const { status } = await client.workflow.getHandle(id).describe();
  const problems = [];
  // The run's history and its child workflows' (an execute_workflow step runs one; its calls'
  // ids extend the parent step's), each activity keyed by its workflow and activity id.
  const perActivity = new Map(); // `<workflow id> <activity id>` -> { type, scheduled, completed, attempt }
  const pending = [{ workflowId: id, runId: undefined }];
  while (pending.length > 0) {
    const { workflowId, runId } = pending.pop();
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    collect(workflowId, history, perActivity, pending, problems);
  }
  let agentCalls = 0;
  if (status.name !== 'COMPLETED') problems.push(`status ${status.name}`);
  let retried = 0;
  for (const [activityId, a] of perActivity) {
    if (a.scheduled !== 1) problems.push(`activity ${activityId} (${a.type}) scheduled ${a.scheduled} times`);
    // Closed once: completed, or failed for good (a step whose on_error handles the failure).
    if (a.completed + a.failed !== 1) problems.push(`activity ${activityId} (${a.type}) completed ${a.completed} and failed ${a.failed} times`);
    if (a.type === 'callAgent' && a.completed === 1) agentCalls++;
    if (a.attempt > 1) retried++;
  }
  // The calls of this run: ids `<workflow id>/<first run id>/<step>`.
  let worked = 0;
  let replayed = 0;
  let failed = 0;
  for (const [key, seen] of calls) {
    if (!key.startsWith(`${id}/`)) continue;
    if (seen.worked > 1) problems.push(`call ${key} was worked out ${seen.worked} times`);
    worked += Math.min(seen.worked, 1);
    replayed += seen.replayed;
    failed += seen.failed;
  }
  if (worked !== agentCalls) problems.push(`${agentCalls} agent-call activities completed but the agents worked out ${worked} distinct calls`);
  totals.runs++;
  totals.activities += perActivity.size;
  totals.agentCalls += agentCalls;
  totals.retriedAttempts += retried;
  totals.replayed += replayed;
  totals.failedCalls += failed;
  const facts = `${perActivity.size} activities, ${agentCalls} agent calls, ${retried} retried, ${replayed} replayed by agents, ${failed} failed attempts`;
  console.log(`${problems.length ? 'FAIL' : 'ok  '} ${id}: ${status.name}, ${facts}${problems.length ? `: ${problems.join('; ')}` : ''}`);
  if (problems.length) failures.push(id);
}
await connection.close();

/** Adds one history's activities to `perActivity`, and its started child workflows to `pending`. */
function collect(workflowId, history, perActivity, pending, problems) {
  const scheduled = new Map(); // scheduled event id -> key
  for (const event of history.events ?? []) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) {
      const key = `${workflowId} ${s.activityId}`;
      scheduled.set(String(event.eventId), key);
      const a = perActivity.get(key) ?? { type: s.activityType?.name, scheduled: 0, completed: 0, failed: 0, attempt: 1 };
      a.scheduled++;
      perActivity.set(key, a);
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const a = perActivity.get(scheduled.get(String(started.scheduledEventId)));
      if (a) a.attempt = Math.max(a.attempt, started.attempt ?? 1);
    }
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const a = perActivity.get(scheduled.get(String(done.scheduledEventId)));
      if (a) a.completed++;
    }
    const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (failed) {
      const a = perActivity.get(scheduled.get(String(failed.scheduledEventId)));
      if (a) a.failed++;
    }
    const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (child?.workflowId) pending.push({ workflowId: child.workflowId, runId: child.runId ?? undefined });
    const childEnd = event.childWorkflowExecutionFailedEventAttributes ?? event.childWorkflowExecutionTimedOutEventAttributes;
    if (childEnd) problems.push(`child workflow ${childEnd.workflowExecution?.workflowId} did not complete`);
  }
}
console.log(
  `check: ${totals.runs} runs, ${totals.activities} activities, ${totals.agentCalls} agent calls each worked out once; ` +
    `${totals.retriedAttempts} activities needed another attempt, ${totals.replayed} repeats answered from the agents' replay cache, ` +
    `${totals.failedCalls} agent failures retried by policy`,
);
if (failures.length) {
  console.error(`check: FAILED for ${failures.length} of ${totals.runs} runs: ${failures.join(', ')}`);
  process.exit(1);
}
