// The names the interpreter writes into a history and the CLI reads back: each parser
// inverts its builder, and the recorded histories hold exactly the names the builders make.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  batchWorkflowId,
  callId,
  childWorkflowId,
  LOAD_DEFINITION_ACTIVITY,
  offersForSteps,
  outermostStepId,
  parseChildWorkflowId,
  pinActivityId,
  pinnedStepOf,
  writtenStepId,
} from '../../../src/history/ids';

const HISTORIES = path.resolve(__dirname, '..', '..', 'histories');

describe('history ids', () => {
  it('parsers invert their builders, for step ids that look like the names around them', () => {
    for (const step of ['plan', 'a.b', 'loop[3].b', 'x.batch-1.y', 'x.batch-']) {
      assert.equal(pinnedStepOf(pinActivityId(step)), step);
      assert.deepEqual(parseChildWorkflowId('wf-1', childWorkflowId('wf-1', step)), { step });
      assert.deepEqual(parseChildWorkflowId('wf-1', batchWorkflowId('wf-1', step, 12)), { step, batch: 12 });
    }
    assert.equal(pinnedStepOf('plan'), undefined);
    assert.equal(pinnedStepOf('.definition'), undefined);
    assert.equal(parseChildWorkflowId('wf-1', 'other.plan'), undefined);
    assert.equal(callId('wf/run', 'loop[0].b'), 'wf/run/loop[0].b');
    assert.equal(writtenStepId('outer[1].inner[2].b'), 'b');
    assert.equal(outermostStepId('outer[1].inner[2].b'), 'outer');
    assert.equal(outermostStepId('plain'), 'plain');
  });

  it('the recorded histories name their definition loads, pins, children and batches as the builders do', () => {
    const seen = { load: 0, pin: 0, child: 0, batch: 0 };
    for (const file of ['code-generation-completed.json', 'smart-router-completed.json', 'batched-parallel.json']) {
      const { events } = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
      const workflowId: string = events[0].workflowExecutionStartedEventAttributes.workflowId;
      for (const e of events) {
        const activity = e.activityTaskScheduledEventAttributes;
        if (activity?.activityType.name === 'loadDefinition') {
          if (activity.activityId === LOAD_DEFINITION_ACTIVITY) seen.load++;
          else {
            assert.equal(pinActivityId(pinnedStepOf(activity.activityId)!), activity.activityId);
            seen.pin++;
          }
        }
        const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
        if (child) {
          const parsed = parseChildWorkflowId(workflowId, child.workflowId)!;
          const rebuilt = parsed.batch === undefined ? childWorkflowId(workflowId, parsed.step) : batchWorkflowId(workflowId, parsed.step, parsed.batch);
          assert.equal(rebuilt, child.workflowId);
          seen[parsed.batch === undefined ? 'child' : 'batch']++;
        }
      }
    }
    assert.deepEqual(seen, { load: 2, pin: 1, child: 1, batch: 3 });
  });

  it("a batch gets only its branches' offers (loop iterations inside them included), none when there are none", () => {
    const offers = { b1: 1, b2: 2, 'loop[0].x': 3, other: 4 };
    const branches = [
      { id: 'b1', inputs: { id: 'other' } },
      { id: 'seq', steps: [{ id: 'b2' }, { id: 'loop', steps: [{ id: 'x' }] }] },
    ];
    assert.deepEqual(offersForSteps(offers, branches), { b1: 1, b2: 2, 'loop[0].x': 3 });
    assert.equal(offersForSteps({ other: 4 }, branches), undefined);
    assert.equal(offersForSteps(undefined, branches), undefined);
  });
});
