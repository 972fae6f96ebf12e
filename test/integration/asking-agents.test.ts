// The workflow side of agents that ask (A2A input-required), on the real dev server: a step
// whose agent asks waits without a worker call in flight, shows its question in the `state`
// query and the memo, refuses replies for steps that do not ask, and goes on with the same
// task once answered; `reply_timeout` ends the wait. The agent here is a stand-in callAgent
// activity that asks once (test/integration/interop.test.ts does it with a real A2A agent).
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { CallAgentReply, CallAgentRequest } from '../../src/activities/contract';
import { replyUpdate, stateQuery, type RunState } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import { palletWorkflow } from '../../src/workflows';
import { def, failureMessage } from '../helpers/runs';
import { temporalEnv, workflowBundle } from '../helpers/temporal';
import { uniqueId } from '../helpers/worker';

const ASKS = `
metadata: { id: asks, name: Asks, version: "1" }
steps:
  - { id: first, skill: plain, inputs: { n: 1 } }
  - { id: greet, skill: ask_name, inputs: { hello: "{{ steps.first.outputs.n }}" }, reply_timeout: 2s }
`;

async function stateWhen(handle: WorkflowHandle, ready: (state: RunState) => boolean): Promise<RunState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await handle.query(stateQuery);
    if (state && ready(state)) return state;
    if (Date.now() > deadline) throw new Error(`the run never got there; last state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('agents that ask: input-required as a durable wait (real server)', function () {
  this.timeout(120_000);
  const requests: CallAgentRequest[] = [];

  /** An agent stand-in: `ask_name` asks once per call without an answer, and greets with the answer. */
  async function callAgent(req: CallAgentRequest): Promise<CallAgentReply> {
    requests.push(req);
    if (req.skill !== 'ask_name') return { result: { n: req.inputs.n }, agent: 'http://stand-in' };
    if (!req.answer)
      return { result: null, agent: 'http://stand-in', inputRequired: { task: { taskId: 't-1', contextId: 'c-1' }, question: 'What is your name?' } };
    return { result: { greeting: `Hello, ${req.answer.text}`, task: req.answer.taskId, hello: req.inputs.hello }, agent: 'http://stand-in' };
  }

  async function withWorker<T>(body: (taskQueue: string) => Promise<T>): Promise<T> {
    const env = await temporalEnv();
    const taskQueue = uniqueId('asks');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { callAgent, loadDefinition: () => Promise.reject(new Error('not used')) },
    });
    return worker.runUntil(body(taskQueue));
  }

  it('the step waits with its question shown; a reply for another step is refused; the answer continues the same task', async () => {
    const env = await temporalEnv();
    await withWorker(async (taskQueue) => {
      const definition = def(ASKS.replace('reply_timeout: 2s', 'reply_timeout: 1h'));
      const handle = await env.client.workflow.start(palletWorkflow, { taskQueue, workflowId: uniqueId('asks'), args: [{ definition, input: {} }] });
      const state = await stateWhen(handle, (s) => (s.asking ?? []).length > 0);
      assert.deepEqual(
        state.asking?.map((a) => [a.step, a.question, a.task.taskId]),
        [['greet', 'What is your name?', 't-1']],
      );
      assert.ok(state.asking?.[0].timeout_at, 'the wait has its deadline');
      // Readers without a worker see it in the memo (pallet status from the history).
      const asked = (await handle.describe()).memo as { asking?: { step: string; question: string }[] };
      assert.deepEqual(
        asked.asking?.map((a) => [a.step, a.question]),
        [['greet', 'What is your name?']],
      );
      await assert.rejects(handle.executeUpdate(replyUpdate, { args: [{ step: 'first', text: 'x' }] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String(err.cause?.message), /step "first" is not waiting for a reply: asking now: "greet"/);
        return true;
      });
      const receipt = await handle.executeUpdate(replyUpdate, { args: [{ step: 'greet', text: 'Ada', by: 'test' }] });
      assert.deepEqual(receipt, { step: 'greet' });
      const result = (await handle.result()) as RunResult;
      assert.deepEqual(result.step_outputs.greet.outputs, { greeting: 'Hello, Ada', task: 't-1', hello: 1 });
      // The answer went to the same task, with the step's inputs and call id.
      const answered = requests.filter((r) => r.stepId === 'greet');
      assert.equal(answered.length, 2);
      assert.deepEqual(answered[1].answer, { taskId: 't-1', contextId: 'c-1', text: 'Ada' });
      assert.equal(answered[1].callId, answered[0].callId);
      const memo = (await handle.describe()).memo as { asking?: unknown[] };
      assert.ok(!memo.asking?.length, 'the memo says nothing is asked any more');
    });
  });

  it('no reply within reply_timeout fails the step with the question (AgentTimeout)', async () => {
    const env = await temporalEnv();
    const message = await withWorker(async (taskQueue) =>
      failureMessage(
        env.client.workflow.execute(palletWorkflow, { taskQueue, workflowId: uniqueId('asks-timeout'), args: [{ definition: def(ASKS), input: {} }] }),
      ),
    );
    assert.match(message, /^Step "greet" failed \(skill ask_name\): the agent asked "What is your name\?" and no reply came within 2 s \(reply_timeout\)/);
  });
});
