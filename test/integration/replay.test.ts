// Replays every recorded history in test/histories/ (finished and failed runs of each
// example workflow and of each language construct) against the current interpreter: a change
// that would break runs in flight fails here. Record new ones with `RECORD_HISTORIES=1 npx
// mocha test/integration/examples.test.ts` (and error-handling.test.ts);
// move the ones they replace to test/histories/older/ first: those recorded by earlier
// versions of the interpreter must keep replaying too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHistoryJson, replayHistory } from '../../src/replay';
import { ROOT, workflowBundle } from '../helpers/temporal';

const DIR = path.join(ROOT, 'test', 'histories');
const current = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const files = [
  ...current,
  ...readdirSync(path.join(DIR, 'older'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join('older', f)),
];

function load(file: string): unknown {
  return JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
}

describe('replay of recorded histories', function () {
  this.timeout(120_000);

  it('has a finished and a failed history of each example workflow', () => {
    for (const name of ['code-generation', 'parallel-analysis', 'smart-router', 'error-handling']) {
      assert.ok(current.includes(`${name}-completed.json`), `${name}-completed.json`);
      assert.ok(current.includes(`${name}-failed.json`), `${name}-failed.json`);
    }
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const { history, workflowId } = parseHistoryJson(load(file));
      assert.ok(workflowId, 'the history names its workflow id');
      await replayHistory(history, workflowId, { workflowBundle: await workflowBundle() });
    });
  }

  it('detects a history the current code would not produce (the check can fail)', async () => {
    const history = load('older/code-generation-completed.json') as { events: { activityTaskScheduledEventAttributes?: { activityId: string } }[] };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === 'build');
    assert.ok(scheduled, 'the history schedules the build step');
    scheduled.activityTaskScheduledEventAttributes!.activityId = 'renamed_build';
    const parsed = parseHistoryJson(history);
    await assert.rejects(replayHistory(parsed.history, parsed.workflowId!, { workflowBundle: await workflowBundle() }), (err: Error) => {
      assert.equal(err.name, 'DeterminismViolationError');
      assert.match(err.message, /renamed_build|build/);
      return true;
    });
  });
});
