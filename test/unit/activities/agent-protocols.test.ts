// The agent-protocol seam: an agent whose entry names another protocol is found and called
// through that protocol (a test-only one here, no HTTP), and the activity's policy applies to
// it exactly as to Pallet's JSON-RPC: the agent's failures counted across attempts, the
// step's retry settings, input_schema checked before the call, the result limit, the step's
// timeout and cancellation through the call's signal.
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { AgentCard } from '../../../src/agents/card';
import { palletJsonRpc } from '../../../src/agents/pallet-jsonrpc';
import type { AgentProtocol, AgentTarget, CallOptions } from '../../../src/agents/protocol';
import { createCallAgent } from '../../../src/activities/call-agent';
import type { AgentRetry, CallAgentReply } from '../../../src/activities/contract';
import { FailureTypes } from '../../../src/contract';
import { AgentDirectory, UrlAgentSource } from '../../../src/sources/agents';

const WORKFLOW = { workflowId: 'wf-protocols-test', runId: 'run-1' };
const CALL_ID = `${WORKFLOW.workflowId}/${WORKFLOW.runId}/the_step`;
// Port 9 (discard): were Pallet's protocol used by mistake, the call would fail as unreachable.
const AGENT_URL = 'http://127.0.0.1:9/fake';

const CARD: AgentCard = {
  name: 'fake-agent',
  skills: [{ id: 'work', input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }],
};

interface Call {
  agent: AgentTarget;
  skill: string;
  inputs: Record<string, unknown>;
  options: CallOptions;
}

/** A protocol of its own name whose answer each test scripts, recording what it was asked. */
class FakeProtocol implements AgentProtocol {
  readonly name = 'fake';
  readonly calls: Call[] = [];
  readonly cardsFetched: string[] = [];
  answer: (call: Call) => Promise<unknown> = async () => 'fake result';

  async fetchCard(baseUrl: string): Promise<AgentCard> {
    this.cardsFetched.push(baseUrl);
    return CARD;
  }

  call(agent: AgentTarget, skill: string, inputs: Record<string, unknown>, options: CallOptions): Promise<unknown> {
    const call = { agent, skill, inputs, options };
    this.calls.push(call);
    return this.answer(call);
  }
}

/** Resolves when `signal` aborts, with its reason thrown: what a protocol does on cancellation. */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

describe('callAgent activity: agent protocols', function () {
  this.timeout(20_000);
  const logger = new DefaultLogger('ERROR');
  let fake: FakeProtocol;
  let directory: AgentDirectory;

  beforeEach(() => {
    fake = new FakeProtocol();
    // Discovery through the fake protocol too: the card is the fake's, the entry names it.
    directory = new AgentDirectory([new UrlAgentSource([`${AGENT_URL}/`], fake)], 60_000);
  });

  interface RunOptions {
    protocols?: AgentProtocol[];
    maxResultBytes?: number;
    maxReplyBytes?: number;
    inputs?: Record<string, unknown>;
    retry?: AgentRetry;
    env?: MockActivityEnvironment;
  }

  function run(opts: RunOptions = {}): Promise<CallAgentReply> {
    const { maxResultBytes, maxReplyBytes } = opts;
    const callAgent = createCallAgent({ directory, protocols: opts.protocols ?? [palletJsonRpc, fake], maxResultBytes, maxReplyBytes });
    const env = opts.env ?? new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 1 }, { logger });
    return env.run(callAgent, { stepId: 'the_step', skill: 'work', inputs: opts.inputs ?? { text: 'hello' }, ...(opts.retry ? { retry: opts.retry } : {}) });
  }

  async function failsWith(promise: Promise<unknown>, type: string, nonRetryable: boolean, message: RegExp): Promise<void> {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
      assert.equal(err.type, type, err.message);
      assert.equal(err.nonRetryable, nonRetryable, `nonRetryable of: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
  }

  it("calls the protocol the agent's entry names: the skill, the inputs, the step's call id, the reply cap and a live signal", async () => {
    fake.answer = async ({ inputs }) => ({ echoed: inputs });
    const reply = await run({ maxReplyBytes: 12_345 });
    assert.deepEqual(reply, { result: { echoed: { text: 'hello' } }, agent: AGENT_URL });
    assert.deepEqual(fake.cardsFetched, [AGENT_URL], 'the card came from the protocol, at the normalised base URL');
    assert.equal(fake.calls.length, 1);
    const [call] = fake.calls;
    assert.equal(call.agent.url, AGENT_URL);
    assert.equal(call.agent.card.name, 'fake-agent');
    assert.equal(call.skill, 'work');
    assert.equal(call.options.callId, CALL_ID);
    assert.equal(call.options.maxReplyBytes, 12_345);
    assert.equal(call.options.signal.aborted, false);

    // A retry sends the same call id, so the agent can recognise the repeat.
    await run({ env: new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 2 }, { logger }) });
    assert.equal(fake.calls[1].options.callId, CALL_ID);
  });

  it("the agent's own failures are counted across attempts in the heartbeat details: the third ends the step", async () => {
    fake.answer = async () => {
      throw ApplicationFailure.retryable('fake-agent is overloaded', FailureTypes.agentServerError);
    };
    for (const [before, nonRetryable] of [
      [0, false],
      [1, false],
      [2, true],
    ] as const) {
      const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: before + 1, heartbeatDetails: { agentFailures: before } }, { logger });
      const beats: unknown[] = [];
      env.on('heartbeat', (d: unknown) => beats.push(d));
      const counted = new RegExp(`^fake-agent is overloaded \\(the agent's failure ${before + 1} of 3\\)$`);
      await failsWith(run({ env }), FailureTypes.agentServerError, nonRetryable, counted);
      assert.equal((beats.at(-1) as { agentFailures: number }).agentFailures, before + 1, 'the count goes on to the next attempt');
    }
  });

  it("the step's retry settings apply to the protocol's failure types", async () => {
    fake.answer = async () => {
      throw ApplicationFailure.nonRetryable('the model refused', FailureTypes.agentSkillError);
    };
    await failsWith(run(), FailureTypes.agentSkillError, true, /^the model refused$/);
    const retryOn = { retryOn: [FailureTypes.agentSkillError], maxFailures: 2 };
    await failsWith(run({ retry: retryOn }), FailureTypes.agentSkillError, false, /^the model refused \(the agent's failure 1 of 2\)$/);
    fake.answer = async () => {
      throw ApplicationFailure.retryable('fake-agent is overloaded', FailureTypes.agentServerError);
    };
    await failsWith(run({ retry: { noRetry: [FailureTypes.agentServerError] } }), FailureTypes.agentServerError, true, /^fake-agent is overloaded$/);
  });

  it("inputs are checked against the card's input_schema before the protocol is called", async () => {
    const notString = /^inputs do not match the input_schema of skill "work" on agent fake-agent: input "text" must be string$/;
    await failsWith(run({ inputs: { text: 42 } }), FailureTypes.invalidInput, true, notString);
    await failsWith(run({ inputs: {} }), FailureTypes.invalidInput, true, /missing required input "text"/);
    assert.equal(fake.calls.length, 0);
  });

  it('a result over the result limit fails the step, naming it', async () => {
    fake.answer = async () => 'z'.repeat(3_000);
    const overLimit = /^agent fake-agent returned 3002 bytes for step "the_step", over the 1000-byte limit/;
    await failsWith(run({ maxResultBytes: 1_000 }), FailureTypes.resultTooLarge, true, overLimit);
  });

  it("the step's timeout aborts the call's signal: the agent's failure AgentTimeout, counted", async () => {
    fake.answer = ({ options }) => untilAborted(options.signal);
    const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 1, startToCloseTimeoutMs: 1_500 }, { logger });
    const started = Date.now();
    const timedOut = /^fake-agent \(http:\/\/127\.0\.0\.1:9\/fake\) did not answer within the step's timeout of 2 s \(the agent's failure 1 of 3\)$/;
    await failsWith(run({ env }), FailureTypes.agentTimeout, false, timedOut);
    assert.ok(Date.now() - started < 1_500, 'given up before the start-to-close timeout');
  });

  it("cancelling the activity aborts the call's signal and fails as cancelled", async () => {
    fake.answer = ({ options }) => untilAborted(options.signal);
    const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 1 }, { logger });
    const running = run({ env });
    while (fake.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    env.cancel();
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
  });

  it('an agent whose protocol this worker does not speak fails the step at once, naming the agent and the protocol', async () => {
    await failsWith(
      run({ protocols: [palletJsonRpc] }),
      FailureTypes.agentUnavailable,
      true,
      /^agent fake-agent \(http:\/\/127\.0\.0\.1:9\/fake, from PALLET_AGENT_URLS\) speaks protocol "fake", which this worker does not \(it speaks pallet\)$/,
    );
    assert.equal(fake.calls.length, 0);
  });
});
