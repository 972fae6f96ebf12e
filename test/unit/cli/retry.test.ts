// `pallet retry` plans from the failed run's history alone: the recorded histories of
// test/histories/ read into offers whose keys the walker accepts for the same definition and
// input, and refuses once the input or the definition changes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { failedRunFromHistory, planRetry, type FailedRun } from '../../../src/cli/retry';
import type { RunFold } from '../../../src/history/fold';
import type { ResultOffer } from '../../../src/history/reuse';
import { parseHistoryJson } from '../../../src/replay';
import { def, run } from '../workflows/harness';

const HISTORIES = path.resolve(__dirname, '..', '..', 'histories');

function failedRun(file: string): Promise<FailedRun> {
  const { history, workflowId } = parseHistoryJson(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
  return failedRunFromHistory(history, workflowId ?? 'unknown');
}

describe('retry plan from a history (pallet retry without a worker)', () => {
  it('offers each finished agent and child step with its result, and the children it pinned', async () => {
    const failed = await failedRun('smart-router-completed.json');
    assert.ok(failed.definition, 'the definition the run loaded from the registry');
    assert.equal(failed.source?.ref, 'workflows/smart-router:v1');
    assert.deepEqual(Object.keys(failed.offers), ['analyze', 'generate_code_workflow']);
    const child = (failed.offers.generate_code_workflow as ResultOffer).result as { workflow_id: string; step_outputs: object };
    assert.equal(child.workflow_id, 'code-generation-v1', "a child step's result is the child run's result");
    assert.match(failed.pinned.generate_code_workflow.digest, /^sha256:/);
    assert.deepEqual(failed.unofferable, []);
  });

  it('a run that failed at its first step offers nothing', async () => {
    const failed = await failedRun('code-generation-failed.json');
    assert.deepEqual(failed.offers, {});
  });

  it('the walker takes the offers for the same input and refuses them for a changed one', async () => {
    const failed = await failedRun('smart-router-completed.json');
    const definition = failed.definition!;
    const skills = { analyze_request: () => ({ fresh: true }), execute_workflow: () => ({ fresh: true }) };
    const same = await run(definition, skills, failed.args.input, { resume: { offers: failed.offers, pinned: failed.pinned } });
    assert.deepEqual(same.log.calls, []);
    assert.deepEqual(same.log.children, []);
    assert.deepEqual(same.walker.state.reused, ['analyze', 'generate_code_workflow']);

    const changed = await run(
      definition,
      { analyze_request: () => (failed.offers.analyze as ResultOffer).result },
      { ...failed.args.input, requirements: 'something else' },
      {
        resume: { offers: failed.offers },
      },
    );
    assert.deepEqual(
      changed.log.calls.map((c) => c.step),
      ['analyze'],
    );
    // The router decides the same way, but the child's input carries the new requirements.
    assert.deepEqual(changed.walker.state.rerun, ['analyze', 'generate_code_workflow']);
  });

  it('states what changed; results without keys and pins hold only while nothing changed', async () => {
    const failed = await failedRun('smart-router-completed.json');
    failed.args.completed = { old: { x: 1 } };
    const same = planRetry(failed, 'wf/run1', {});
    assert.deepEqual(same.changes, []);
    assert.deepEqual(same.args.completed, { old: { x: 1 } });
    assert.equal(same.args.callsOf, 'wf/run1');
    assert.deepEqual(same.args.pinned, failed.pinned);
    assert.deepEqual(same.args.source, failed.args.source);

    const reordered = planRetry(failed, 'wf/run1', { input: JSON.parse(JSON.stringify(failed.args.input)) });
    assert.deepEqual(reordered.changes, [], 'the same input given again is no change');

    const edited = def(`metadata: { id: smart-router-v1, name: R, version: "2" }\nsteps:\n  - { id: analyze, skill: analyze_request }\n`);
    const plan = planRetry(failed, 'wf/run1', { definition: edited, source: { ref: '/tmp/router.yaml', digest: 'sha256:new' }, input: { requirements: 'x' } });
    assert.equal(plan.changes.length, 2);
    assert.match(plan.changes[0], /^definition: workflows\/smart-router:v1 sha256:9fc9ae656fd9 -> \/tmp\/router\.yaml sha256:new$/);
    assert.equal(plan.changes[1], 'input');
    assert.equal(plan.args.completed, undefined);
    assert.deepEqual(plan.notOffered, ['old']);
    assert.deepEqual(plan.args.pinned, {});
    assert.equal(plan.args.definition, edited);
    assert.deepEqual(plan.offered, ['analyze', 'generate_code_workflow'], 'offers stay: the workflow decides by key');
  });
});

describe('retry of a run that continued as new, and what a finished retry reused', () => {
  it('carried call steps with keys are offered as stored, whatever changed; keyless carried results only while nothing changed', async () => {
    const failed = await failedRun('code-generation-failed.json');
    failed.carried = { outputs: { a: { x: 1 }, loop: [{ y: 2 }] }, keys: { a: 'key-a' } };
    const same = planRetry(failed, 'wf/run1', {});
    assert.deepEqual(same.args.offers?.a, { stored: { x: 1 }, key: 'key-a' });
    assert.deepEqual(same.args.completed, { loop: [{ y: 2 }] });
    assert.ok(same.offered.includes('a'));

    const changed = planRetry(failed, 'wf/run1', { input: { requirements: 'other' } });
    assert.deepEqual(changed.args.offers?.a, { stored: { x: 1 }, key: 'key-a' }, 'the walker decides by key');
    assert.equal(changed.args.completed, undefined);
    assert.deepEqual(changed.notOffered, ['loop']);
  });

  it('counts loop iterations and batch branches it reused, and the offered steps it ran again', async () => {
    const { retryOutcome } = await import('../../../src/history/reuse');
    const plan = { args: { completed: { old: 1 } }, changes: [], offered: ['loop[0].b', 'loop[1].b', 'fan1', 'shout', 'unreached'], notOffered: [] };
    const result = {
      workflow_id: 'w',
      workflow_name: 'W',
      workflow_version: '1',
      initial_input: {},
      step_outputs: { loop: { outputs: [] }, fan1: { outputs: 1 }, shout: { outputs: 2 }, old: { outputs: 1 } },
      final_output: 2,
    };
    const fold = {
      calls: [
        { kind: 'agent', step: 'loop[1].b' },
        { kind: 'agent', step: 'shout' },
      ],
    } as unknown as RunFold;
    const outcome = retryOutcome(plan, result, [fold]);
    assert.deepEqual(outcome.reused, ['loop[0].b', 'fan1', 'old']);
    assert.deepEqual(outcome.rerun, ['loop[1].b', 'shout']);
  });
});
