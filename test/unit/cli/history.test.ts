// `pallet status` without a worker: the recorded histories of test/histories/ read into
// steps (agent calls, child workflows, definition loads), their states and the outcome.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { viewFromHistory, type HistoryView } from '../../../src/cli/history';
import { parseHistoryJson } from '../../../src/replay';

const HISTORIES = path.resolve(__dirname, '..', '..', 'histories');

function view(file: string): HistoryView {
  const { history, workflowId } = parseHistoryJson(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
  return viewFromHistory(history, workflowId ?? 'unknown');
}

const summary = (v: HistoryView) => v.steps.map((s) => [s.id, s.kind, s.state, s.attempts]);

describe('run view from a history (pallet status without a worker)', () => {
  it('a completed run: each agent step completed once, outputs from the result, the run duration', () => {
    const v = view('code-generation-completed.json');
    assert.equal(v.status, 'COMPLETED');
    assert.deepEqual(summary(v), [
      ['load-definition', 'definition', 'completed', 1],
      ['plan', 'agent', 'completed', 1],
      ['build', 'agent', 'completed', 1],
      ['test', 'agent', 'completed', 1],
    ]);
    assert.deepEqual(v.finished, ['plan', 'build', 'test']);
    assert.deepEqual(v.running, []);
    for (const s of v.steps.filter((x) => x.kind === 'agent')) {
      assert.deepEqual(s.outputs, v.result?.step_outputs[s.id].outputs);
      assert.match(s.agent ?? '', /^http:\/\//);
      assert.ok((s.duration_ms ?? -1) >= 0);
    }
    assert.ok(v.start_time && v.close_time && (v.duration_ms ?? -1) >= 0);
    assert.equal(v.failure, undefined);
  });

  it('a failed run: the failed step with its error and the StepFailed failure with its details', () => {
    const v = view('code-generation-failed.json');
    assert.equal(v.status, 'FAILED');
    const plan = v.steps.find((s) => s.id === 'plan');
    assert.equal(plan?.state, 'failed');
    assert.match(plan?.error ?? '', /input_schema/);
    assert.equal(v.failure?.type, 'StepFailed');
    assert.equal(v.failure?.step?.stepId, 'plan');
    assert.match(v.failure?.message ?? '', /^Step "plan" failed/);
    assert.deepEqual(v.finished, []);
  });

  it('execute_workflow steps are child workflows, named by their step id', () => {
    const done = view('smart-router-completed.json');
    const child = done.steps.find((s) => s.kind === 'workflow');
    assert.equal(child?.id, 'generate_code_workflow');
    assert.equal(child?.state, 'completed');
    assert.ok(done.finished.includes('generate_code_workflow'));
    const failed = view('smart-router-failed.json');
    const failedChild = failed.steps.find((s) => s.kind === 'workflow');
    assert.equal(failedChild?.state, 'failed');
    assert.match(failedChild?.error ?? '', /Step "analyze" failed/);
    assert.equal(failed.failure?.step?.stepId, 'analyze_data_workflow');
  });

  it('parallel steps finish in the order they finished', () => {
    const v = view('parallel-analysis-completed.json');
    assert.deepEqual([...v.finished].sort(), ['aggregate', 'analyze_performance', 'analyze_quality', 'analyze_security']);
    assert.equal(v.finished[v.finished.length - 1], 'aggregate');
  });
});

describe('run view of a run that continued as new or was a retry', () => {
  it('carried steps, earlier generations and reused offers are shown as such', async () => {
    const { defaultPayloadConverter } = await import('@temporalio/common');
    const { history, workflowId } = parseHistoryJson(JSON.parse(readFileSync(path.join(HISTORIES, 'code-generation-completed.json'), 'utf8')));
    const started = history.events![0].workflowExecutionStartedEventAttributes!;
    const args = defaultPayloadConverter.fromPayload<Record<string, unknown>>(started.input!.payloads![0]);
    const extra = {
      carried: { earlier: { x: 1 } },
      generations: [{ run_id: 'r1', events: 10_012, bytes: 2_000_000 }],
      // `plan` ran in this history, so its offer was not taken; `ghost` is not in the result.
      offers: { plan: { result: 'old', key: 'k' }, ghost: { result: 'g', key: 'k' } },
    };
    started.input!.payloads![0] = defaultPayloadConverter.toPayload({ ...args, ...extra });
    const v = viewFromHistory(history, workflowId ?? 'unknown');
    assert.deepEqual(v.generations, extra.generations);
    assert.deepEqual(summary(v)[0], ['earlier', 'agent', 'carried', 0]);
    assert.deepEqual(v.finished, ['earlier', 'plan', 'build', 'test']);
    assert.ok(!v.steps.some((s) => s.id === 'ghost'), 'an offer the run never reached is not shown as reused');
  });
});
