// The callAgent activity around a long A2A task (the agent: an official-SDK server, see
// test/unit/agents/a2a-test-agent.ts): the task id is heartbeated as soon as it is known; an
// attempt that finds it in the heartbeat details follows it without sending again; a question
// from the agent is a reply that says so, and the answer continues the task; the agent's
// host's credentials go on the wire.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { parseAgentCredentials } from '../../../src/agents/credentials';
import type { TaskRef } from '../../../src/agents/protocol';
import { createCallAgent } from '../../../src/activities/call-agent';
import type { CallAgentReply, CallAgentRequest } from '../../../src/activities/contract';
import { AgentDirectory, UrlAgentSource } from '../../../src/sources/agents';
import { startAgent, type TestAgent } from '../agents/a2a-test-agent';

const WORKFLOW = { workflowId: 'wf-long-task', runId: 'run-1' };
const SECRET = 't0ken-for-the-long-task-agent';

describe('callAgent activity: long A2A tasks', function () {
  this.timeout(30_000);
  const logger = new DefaultLogger('ERROR');
  let agent: TestAgent;
  let callAgent: ReturnType<typeof createCallAgent>;

  beforeEach(async () => {
    agent = await startAgent();
    const credentials = parseAgentCredentials(JSON.stringify({ [new URL(agent.url).host]: { bearer: SECRET } }));
    callAgent = createCallAgent({ directory: new AgentDirectory([new UrlAgentSource([agent.url])], 60_000), credentials });
  });
  afterEach(() => agent.close());

  function attempt(req: Partial<CallAgentRequest> & { skill: string }, heartbeatDetails?: unknown) {
    const env = new MockActivityEnvironment(
      { workflowExecution: WORKFLOW, attempt: heartbeatDetails ? 2 : 1, heartbeatDetails, startToCloseTimeoutMs: 20_000 },
      { logger },
    );
    const beats: { task?: TaskRef }[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d as { task?: TaskRef }));
    return { env, beats, run: (): Promise<CallAgentReply> => env.run(callAgent, { stepId: 'the_step', inputs: { text: 'hi' }, ...req }) };
  }

  it('heartbeats the task at once; the attempt after a crash follows it from the heartbeat details, one send in all', async () => {
    agent.seen.slowMs = 2_000;
    const first = attempt({ skill: 'slow' });
    const running = first.run();
    while (!first.beats.some((b) => b.task)) await new Promise((resolve) => setTimeout(resolve, 20));
    const { task } = first.beats.find((b) => b.task)!;
    // The worker "crashes": its attempt is stopped without cancelling the agent's task.
    first.env.cancel('WORKER_SHUTDOWN');
    await assert.rejects(running);
    assert.deepEqual(agent.seen.cancelled, []);

    const echo = attempt({ skill: 'echo' }, { agentFailures: 0, task });
    const reply = await echo.run();
    // The resumed attempt followed the slow task (it completes with no artifact: null), not a new echo.
    assert.deepEqual(reply, { result: null, agent: agent.url });
    assert.equal(agent.seen.sends.length, 1, 'the message was sent once, by the first attempt');
    assert.ok(
      echo.beats.every((b) => b.task?.taskId === task?.taskId),
      'the next attempt heartbeats the same task',
    );
  });

  it("input-required is a reply with the agent's question; called again with the answer, the same task completes", async () => {
    const asked = await attempt({ skill: 'ask' }).run();
    assert.equal(asked.result, null);
    assert.equal(asked.inputRequired?.question, 'Which color?');
    assert.deepEqual(asked.inputRequired?.data, { choices: ['red', 'blue'] });
    const answered = await attempt({ skill: 'ask', answer: { ...asked.inputRequired!.task, text: 'red' } }).run();
    assert.deepEqual(answered, { result: { color: 'red' }, agent: agent.url });
    assert.equal(agent.seen.sends[1].taskId, asked.inputRequired!.task.taskId);
  });

  it("the agent's host's credentials are sent on every request of the call, from PALLET_AGENT_CREDENTIALS", async () => {
    agent.seen.authorization.length = 0;
    await attempt({ skill: 'echo' }).run();
    assert.ok(agent.seen.authorization.length >= 2);
    assert.deepEqual(new Set(agent.seen.authorization), new Set([`Bearer ${SECRET}`]));
  });
});
