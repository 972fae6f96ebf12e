// Interoperability, against implementations we did not write: an A2A agent on the Python
// a2a-sdk and an MCP server on the Python mcp package (test/interop/), called from workflows on
// the real dev server. What the agent received is read from its own request log, so "one send
// and several gets" is what the agent saw, not what our client believes it sent.
import assert from 'node:assert/strict';
import type { WorkflowHandleWithFirstExecutionRunId as WorkflowHandle } from '@temporalio/client';
import { replyUpdate, stateQuery, type RunState } from '../../src/contract';
import type { RunResult } from '../../src/dsl/types';
import { callId, callsOfRun } from '../../src/history/ids';
import { AgentDirectory, UrlAgentSource } from '../../src/sources/agents';
import { McpAgentSource } from '../../src/sources/mcp-servers';
import { palletWorkflow } from '../../src/workflows';
import { startTestAgent } from '../helpers/agents';
import { runCli } from '../helpers/cli';
import { startA2aFixture, startMcpFixture, type A2aFixture, type McpFixture } from '../helpers/interop';
import { exited, startWorkerProcess, until, workerProcessEnv } from '../helpers/processes';
import { def, failureMessage } from '../helpers/runs';
import { temporalEnv } from '../helpers/temporal';
import { uniqueId, withWorker } from '../helpers/worker';

const LONG = `
metadata: { id: interop-long, name: Interop long task, version: "1" }
steps:
  - { id: work, skill: long_task, inputs: { seconds: SECONDS }, timeout: 120 }
`;
const ASKS = `
metadata: { id: interop-asks, name: Interop question, version: "1" }
steps:
  - { id: greet, skill: ask_name, inputs: {}, timeout: 60, reply_timeout: 1h }
`;
const SLOW = `
metadata: { id: interop-slow, name: Interop cancel, version: "1" }
steps:
  - { id: slow, skill: slow_cancellable, inputs: {}, timeout: 600 }
`;
const MCP_SERVER = 'pytools';
const TOOLS = `
metadata: { id: interop-tools, name: Interop MCP tools, version: "1" }
steps:
  - { id: total, skill: ${MCP_SERVER}.add, inputs: { a: 2, b: 3.5 } }
  - { id: also, skill: ${MCP_SERVER}.add, inputs: { a: "\${{ steps.total.outputs.sum }}", b: 1 } }
`;
const REFUSED = `
metadata: { id: interop-refused, name: Interop MCP error, version: "1" }
steps:
  - { id: refuse, skill: ${MCP_SERVER}.fail, inputs: { reason: "not today" } }
`;

/** The messageId our A2A client gives a step's first message: the step's call id. */
function stepCallId(handle: WorkflowHandle, stepId: string): string {
  return callId(callsOfRun(handle.workflowId, handle.firstExecutionRunId), stepId);
}

async function stateWhen(handle: WorkflowHandle, ready: (state: RunState) => boolean, what: string): Promise<RunState> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await handle.query(stateQuery);
    if (state && ready(state)) return state;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('interop: Python a2a-sdk agent and mcp server, called from workflows (real server)', function () {
  this.timeout(300_000);
  let a2a: A2aFixture;
  let mcp: McpFixture;

  before(async () => {
    [a2a, mcp] = await Promise.all([startA2aFixture(), startMcpFixture()]);
  });

  after(async () => {
    await Promise.all([a2a?.stop(), mcp?.stop()]);
  });

  const directory = () => new AgentDirectory([new UrlAgentSource([a2a.url]), new McpAgentSource([{ name: MCP_SERVER, url: mcp.url }])], 60_000);

  /** Sends of a step's first message (its call id as messageId) the agent received. */
  const firstSends = (messageId: string) => a2a.records().filter((r) => r.kind === 'send' && r.messageId === messageId);

  it('one workflow mixing a Pallet agent, the Python A2A agent (a long task and a question) and the Python MCP tool holds all their outputs', async () => {
    const pallet = await startTestAgent('planner', { plan: (p) => ({ steps: Number(p.n) * 2 }) });
    try {
      const mixed = def(`
metadata: { id: interop-mixed, name: Interop mixed, version: "1" }
steps:
  - { id: plan, skill: plan, inputs: { n: 2 } }
  - { id: work, skill: long_task, inputs: { seconds: 2 }, timeout: 120 }
  - { id: greet, skill: ask_name, inputs: {}, timeout: 60, reply_timeout: 1h }
  - { id: total, skill: ${MCP_SERVER}.add, inputs: { a: "\${{ steps.plan.outputs.steps }}", b: 1 } }
`);
      const dir = new AgentDirectory([new UrlAgentSource([pallet.url, a2a.url]), new McpAgentSource([{ name: MCP_SERVER, url: mcp.url }])], 60_000);
      const result = await withWorker({ agentUrls: [], directory: dir }, async ({ start }) => {
        const handle = await start({ definition: mixed, input: {} });
        await stateWhen(handle, (s) => (s.asking ?? []).some((a) => a.step === 'greet'), 'the question');
        await handle.executeUpdate(replyUpdate, { args: [{ step: 'greet', text: 'Grace' }] });
        return (await handle.result()) as RunResult;
      });
      assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'work', 'greet', 'total']);
      assert.deepEqual(result.step_outputs.plan.outputs, { steps: 4 }, 'the Pallet agent');
      assert.deepEqual(result.step_outputs.work.outputs, { done: true, seconds: 2 }, 'the A2A long task');
      assert.deepEqual(result.step_outputs.greet.outputs, { greeting: 'Hello, Grace' }, 'the A2A question, answered');
      assert.deepEqual(result.step_outputs.total.outputs, { sum: 5 }, 'the MCP tool');
    } finally {
      await pallet.close();
    }
  });

  it('a long A2A task: the step completes with the artifact, sent once and followed with gets', async () => {
    const { result, messageId } = await withWorker({ agentUrls: [], directory: directory() }, async ({ start }) => {
      const handle = await start({ definition: def(LONG.replace('SECONDS', '3')), input: {} });
      return { result: (await handle.result()) as RunResult, messageId: stepCallId(handle, 'work') };
    });
    assert.deepEqual(result.step_outputs.work.outputs, { done: true, seconds: 3 });
    assert.deepEqual(result.final_output, { done: true, seconds: 3 });
    const sends = firstSends(messageId);
    assert.equal(sends.length, 1, 'one SendMessage for the step');
    assert.equal(sends[0].skill, 'long_task', 'the skill goes in the message metadata');
    assert.equal(sends[0].a2aVersion, '1.0');
    const task = a2a.taskOf(messageId);
    assert.ok(task, 'the agent started a task for the message');
    assert.ok(a2a.requestsFor(task, 'get').length >= 2, 'the task was followed with GetTask');
    assert.deepEqual(a2a.events(task), ['execute', 'completed']);
  });

  it('a worker killed (SIGKILL) while the task works: a new worker finishes the run; the agent saw one send and gets from both', async () => {
    const env = await temporalEnv();
    const taskQueue = uniqueId('interop-kill');
    const workerEnv = workerProcessEnv(env, taskQueue, a2a.url);
    let worker = startWorkerProcess(workerEnv);
    try {
      await worker.ready;
      const handle = await env.client.workflow.start(palletWorkflow, {
        taskQueue,
        workflowId: uniqueId('interop-kill'),
        args: [{ definition: def(LONG.replace('SECONDS', '20')), input: {} }],
      });
      const messageId = stepCallId(handle, 'work');
      let task: string | undefined;
      await until(
        () => (task = a2a.taskOf(messageId)) !== undefined && a2a.requestsFor(task, 'get').length >= 1,
        'the first worker to follow the task',
        60_000,
      );
      worker.kill('SIGKILL');
      await exited(worker);
      const killedAt = Date.now() / 1000;

      worker = startWorkerProcess(workerEnv);
      const result = (await handle.result()) as RunResult;

      assert.deepEqual(result.step_outputs.work.outputs, { done: true, seconds: 20 });
      assert.ok(task);
      assert.equal(firstSends(messageId).length, 1, 'the step was sent once, not again by the new worker');
      assert.equal(a2a.requestsFor(task, 'send').length, 0, 'no other message on the task');
      const gets = a2a.requestsFor(task, 'get');
      assert.ok(gets.length >= 3, `several gets (${gets.length})`);
      assert.ok(
        gets.some((g) => g.time > killedAt),
        'the new worker followed the same task',
      );
      assert.deepEqual(a2a.events(task), ['execute', 'completed'], 'one execution on the agent');
    } finally {
      worker.kill('SIGKILL');
      await exited(worker);
    }
  });

  it('input-required: the step waits with the question; `pallet reply` from the CLI answers it and the same task completes', async () => {
    const env = await temporalEnv();
    await withWorker({ agentUrls: [], directory: directory() }, async ({ start, taskQueue }) => {
      const handle = await start({ definition: def(ASKS), input: {} });
      const state = await stateWhen(handle, (s) => (s.asking ?? []).some((a) => a.step === 'greet'), 'the question');
      assert.equal(state.asking?.[0].question, 'What is your name?');
      const messageId = stepCallId(handle, 'greet');
      const task = a2a.taskOf(messageId);
      assert.ok(task);
      assert.equal(state.asking?.[0].task.taskId, task, 'the wait is for the task the agent started');

      const cliEnv = {
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        PALLET_TASK_QUEUE: taskQueue,
        PALLET_REGISTRY_DISCOVERY: 'false',
      };
      const status = await runCli(['status', handle.workflowId], { env: cliEnv });
      assert.match(status.stdout, /What is your name\?/, status.stdout + status.stderr);
      const reply = await runCli(['reply', handle.workflowId, 'greet', '--text', 'Ada'], { env: cliEnv });
      assert.equal(reply.code, 0, reply.stderr);

      const result = (await handle.result()) as RunResult;
      assert.deepEqual(result.step_outputs.greet.outputs, { greeting: 'Hello, Ada' });
      assert.equal(firstSends(messageId).length, 1);
      const answers = a2a.requestsFor(task, 'send');
      assert.equal(answers.length, 1, 'the answer was sent once, on the same task');
      assert.ok(answers[0].messageId?.startsWith(`${messageId}/`), String(answers[0].messageId));
      assert.deepEqual(a2a.events(task), ['execute', 'input-required', 'execute', 'completed']);
    });
  });

  // Agent calls are cancelled with WAIT_CANCELLATION_COMPLETED: the activity sees CANCELLED and sends CancelTask.
  it('`pallet cancel` of a run whose A2A task works: the agent gets CancelTask and the task is canceled', async () => {
    const env = await temporalEnv();
    await withWorker({ agentUrls: [], directory: directory() }, async ({ start, taskQueue }) => {
      const handle = await start({ definition: def(SLOW), input: {} });
      const messageId = stepCallId(handle, 'slow');
      let task: string | undefined;
      await until(() => (task = a2a.taskOf(messageId)) !== undefined && a2a.requestsFor(task, 'get').length >= 1, 'the task to be followed', 60_000);
      assert.ok(task);
      const cliEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', PALLET_TASK_QUEUE: taskQueue };
      const res = await runCli(['cancel', handle.workflowId, '--json'], { env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      await until(() => a2a.events(task!).includes('canceled'), 'the agent to cancel the task', 60_000);
      assert.equal(a2a.requestsFor(task, 'cancel').length, 1, 'one CancelTask');
      assert.equal(firstSends(messageId).length, 1);
      await assert.rejects(handle.result());
    });
  });

  it('MCP tools: structuredContent is the step output; isError fails the step with the tool message, once', async () => {
    // The fixture is shared by the file's tests: count this test's calls only.
    const [adds, fails] = [mcp.toolCalls('add').length, mcp.toolCalls('fail').length];
    const result = await withWorker({ agentUrls: [], directory: directory() }, async ({ start }) =>
      (await start({ definition: def(TOOLS), input: {} })).result(),
    );
    assert.deepEqual((result as RunResult).step_outputs.total.outputs, { sum: 5.5 });
    assert.deepEqual((result as RunResult).step_outputs.also.outputs, { sum: 6.5 });
    assert.equal(mcp.toolCalls('add').length - adds, 2);

    const message = await withWorker({ agentUrls: [], directory: directory() }, async ({ start }) =>
      failureMessage((await start({ definition: def(REFUSED), input: {} })).result()),
    );
    assert.match(message, /Step "refuse" failed/);
    assert.match(message, /refused: not today/);
    assert.equal(mcp.toolCalls('fail').length - fails, 1, 'a tool error is not retried');
  });
});
