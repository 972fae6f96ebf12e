// `pallet status` without a worker, and the fold every history verb reads: each recorded
// history of test/histories/ read two ways, by the fold (src/history/) and here, from the
// JSON the server exported, its payloads base64-decoded by hand, and the two compared.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { foldHistory } from '../../../src/history/fold';
import { viewFromHistory } from '../../../src/history/view';
import { parseHistoryJson } from '../../../src/replay';

const HISTORIES = path.resolve(__dirname, '..', '..', 'histories');
const FILES = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

/** An event as the server exported it (JSON, payloads base64). */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface RawEvent extends Json {
  eventId: string;
  eventTime: string;
}

function raw(file: string): RawEvent[] {
  return (JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: RawEvent[] }).events;
}

/** A JSON payload's value, decoded here without the SDK. */
function payload(p: Json | undefined): unknown {
  if (!p) return undefined;
  assert.equal(Buffer.from(p.metadata.encoding, 'base64').toString(), 'json/plain');
  return JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
}

const first = (ps: Json | undefined) => payload(ps?.payloads?.[0]);

function parsed(file: string) {
  const { history, workflowId } = parseHistoryJson(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
  return { history, workflowId: workflowId ?? 'unknown' };
}

describe('run view from a history (pallet status without a worker), against the recorded events', () => {
  for (const file of FILES) {
    it(`${file}: calls, outputs, failures, children and the outcome are what the server recorded`, async () => {
      const events = raw(file);
      const { history, workflowId } = parsed(file);
      const view = await viewFromHistory(history, workflowId);
      const byId = new Map(events.map((e) => [e.eventId, e]));
      const start = first(events[0].workflowExecutionStartedEventAttributes.input) as Json;
      assert.deepEqual(view.input, start.input);

      const last = events[events.length - 1];
      const completed = last.workflowExecutionCompletedEventAttributes ? (first(last.workflowExecutionCompletedEventAttributes.result) as Json) : undefined;
      // A completed run's step_outputs hold what was stored (after `outputs:` mappings): the view shows that form.
      const stored = (id: string, returned: unknown) => (completed?.step_outputs?.[id] ? completed.step_outputs[id].outputs : returned);
      const step = (id: string) => {
        const found = view.steps.filter((s) => s.id === id);
        assert.equal(found.length, 1, `one step ${id} in the view of ${file}`);
        return found[0];
      };

      for (const e of events) {
        const done = e.activityTaskCompletedEventAttributes;
        const failed = e.activityTaskFailedEventAttributes;
        if (done || failed) {
          const scheduled = byId.get((done ?? failed).scheduledEventId)!.activityTaskScheduledEventAttributes;
          if (scheduled.activityType.name !== 'callAgent') continue;
          const s = step(scheduled.activityId);
          if (done) {
            const reply = first(done.result) as { result: unknown; agent: string };
            assert.equal(s.state, 'completed');
            assert.deepEqual(s.outputs, stored(scheduled.activityId, reply.result), `outputs of ${scheduled.activityId}`);
            assert.equal(s.agent, reply.agent);
            assert.ok(view.finished.includes(scheduled.activityId));
          } else {
            assert.equal(s.state, 'failed');
            assert.ok(s.error?.includes(failed.failure.message), `${s.error} names ${failed.failure.message}`);
          }
        }
        const child = e.childWorkflowExecutionCompletedEventAttributes;
        if (child) {
          const childId: string = byId.get(child.initiatedEventId)!.startChildWorkflowExecutionInitiatedEventAttributes.workflowId;
          const id = childId.slice(workflowId.length + 1);
          const batch = /^(.*)\.batch-(\d+)$/.exec(id);
          const s = step(id);
          assert.equal(s.state, 'completed');
          assert.equal(s.kind, batch ? 'batch' : 'workflow');
          if (!batch) assert.deepEqual(s.outputs, stored(id, first(child.result)));
        }
      }

      if (completed) {
        assert.equal(view.status, 'COMPLETED');
        assert.deepEqual(view.result, completed);
      }
      const failedRun = last.workflowExecutionFailedEventAttributes;
      if (failedRun) {
        assert.equal(view.status, 'FAILED');
        assert.equal(view.failure?.message, failedRun.failure.message);
        assert.equal(view.failure?.type, failedRun.failure.applicationFailureInfo?.type);
        const details = first(failedRun.failure.applicationFailureInfo?.details) as Json | undefined;
        // Whatever the failure type (StepFailed, ExpressionError, ...), its step details are decoded.
        if (details?.stepId) assert.deepEqual(view.failure?.step, details);
      }
      if (last.workflowExecutionContinuedAsNewEventAttributes) assert.equal(view.status, 'CONTINUED_AS_NEW');
    });
  }

  it('an ExpressionError names its step (its details were dropped when only StepFailed was decoded)', async () => {
    const { history, workflowId } = parsed('expressions-failed.json');
    const view = await viewFromHistory(history, workflowId);
    assert.equal(view.failure?.type, 'ExpressionError');
    assert.equal(view.failure?.step?.stepId, 'gate');
  });

  it('timers and memo upserts: each timer with the step its summary names and how it ended', async () => {
    const events = raw('waiting-completed.json');
    const { history, workflowId } = parsed('waiting-completed.json');
    const fold = await foldHistory(history, workflowId);
    const started = events.filter((e) => e.timerStartedEventAttributes);
    assert.equal(fold.timers.length, started.length);
    started.forEach((e, i) => {
      const id = e.timerStartedEventAttributes.timerId;
      const ended = events.find((x) => x.timerFiredEventAttributes?.timerId === id)
        ? 'fired'
        : events.find((x) => x.timerCanceledEventAttributes?.timerId === id)
          ? 'cancelled'
          : 'pending';
      const summary = payload(e.userMetadata.summary) as string;
      assert.equal(fold.timers[i].summary, summary);
      assert.equal(fold.timers[i].step, summary.slice(0, summary.indexOf(':')));
      assert.equal(fold.timers[i].state, ended);
    });
    for (const e of events.filter((x) => x.workflowPropertiesModifiedEventAttributes)) {
      for (const [name, p] of Object.entries(e.workflowPropertiesModifiedEventAttributes.upsertedMemo.fields as Json))
        assert.deepEqual(fold.memo[name], payload(p));
    }
  });

  it('a run sleeping now shows the sleep and when it ends; a waiting one its waits from the memo', async () => {
    const events = raw('waiting-completed.json');
    const cut = events.findIndex((e) => e.timerStartedEventAttributes);
    const timer = events[cut];
    const waiting = [{ step: 'review', event: 'review', since: '2026-11-25T17:19:02.000Z', timeout_at: null }];
    const memo = {
      eventId: String(cut + 2),
      eventTime: timer.eventTime,
      eventType: 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED',
      workflowPropertiesModifiedEventAttributes: {
        workflowTaskCompletedEventId: String(cut),
        upsertedMemo: {
          fields: {
            waiting: { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify(waiting)).toString('base64') },
          },
        },
      },
    };
    const { history, workflowId } = parseHistoryJson({ events: [...events.slice(0, cut + 1), memo] });
    const view = await viewFromHistory(history, workflowId ?? 'w', Date.parse(timer.eventTime) + 10);
    assert.equal(view.status, 'RUNNING');
    const seconds = Number(String(timer.timerStartedEventAttributes.startToFireTimeout).replace(/s$/, ''));
    const summary = payload(timer.userMetadata.summary) as string;
    assert.deepEqual(view.sleeping, [{ step: summary.split(':')[0], until: new Date(Date.parse(timer.eventTime) + seconds * 1000).toISOString() }]);
    assert.deepEqual(view.waiting, waiting);
  });

  it('carried steps, earlier generations and reused offers are shown as such', async () => {
    const { defaultPayloadConverter } = await import('@temporalio/common');
    const { history, workflowId } = parsed('code-generation-completed.json');
    const started = history.events![0].workflowExecutionStartedEventAttributes!;
    const args = defaultPayloadConverter.fromPayload<Record<string, unknown>>(started.input!.payloads![0]);
    const extra = {
      carried: { earlier: { x: 1 } },
      generations: [{ run_id: 'r1', events: 10_012, bytes: 2_000_000 }],
      // `plan` ran in this history, so its offer was not taken; `ghost` is not in the result.
      offers: { plan: { result: 'old', key: 'k' }, ghost: { result: 'g', key: 'k' } },
    };
    started.input!.payloads![0] = defaultPayloadConverter.toPayload({ ...args, ...extra });
    const v = await viewFromHistory(history, workflowId);
    assert.deepEqual(v.generations, extra.generations);
    assert.deepEqual([v.steps[0].id, v.steps[0].state, v.steps[0].outputs], ['earlier', 'carried', { x: 1 }]);
    assert.deepEqual(v.finished, ['earlier', 'plan', 'build', 'test']);
    assert.ok(!v.steps.some((s) => s.id === 'ghost'), 'an offer the run never reached is not shown as reused');
  });
});
