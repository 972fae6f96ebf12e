// The A2A protocol against a real A2A server built on the official SDK (@a2a-js/sdk's
// DefaultRequestHandler and express handlers, on a loopback port): the card as Pallet reads
// it and the addresses it refuses, a completed task's output by the documented rule, the
// task's failures as the step's, input-required and its answer on the same task, a resumed
// call that never sends again, cancellation reaching the agent, and credentials sent as
// headers but never shown.
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { a2aCardToPallet, a2aProtocol, A2A_PROTOCOL, isA2aCard } from '../../../src/agents/a2a';
import type { AgentCard } from '../../../src/agents/card';
import { parseCardFile } from '../../../src/cli/registry';
import { InputRequired, type CallOptions, type TaskRef } from '../../../src/agents/protocol';
import { FailureTypes } from '../../../src/contract';
import type { PalletRegistry } from '../../../src/registry';
import { UrlAgentSource } from '../../../src/sources/agents';
import { RegistryAgentSource } from '../../../src/sources/registry-agents';
import { freePort } from '../../helpers/net';
import { ECHO_SCHEMA, startAgent, type TestAgent } from './a2a-test-agent';

const SECRET = 'b3arer-0f-the-agent-91c2';

function options(over: Partial<CallOptions> = {}): CallOptions & { tasks: TaskRef[] } {
  const tasks: TaskRef[] = [];
  return { callId: 'wf/run/step', signal: new AbortController().signal, maxReplyBytes: 1 << 20, onTask: (t) => tasks.push(t), tasks, ...over };
}

async function target(agent: TestAgent): Promise<{ url: string; card: AgentCard }> {
  return { url: agent.url, card: await a2aProtocol.fetchCard(agent.url, AbortSignal.timeout(5_000)) };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

describe('A2A protocol (official SDK server)', function () {
  this.timeout(30_000);
  let agent: TestAgent;

  beforeEach(async () => {
    agent = await startAgent();
  });
  afterEach(() => agent.close());

  describe('cards', () => {
    it("reads the card at /.well-known/agent-card.json in Pallet's shape: skills, their input_schema from metadata, the interfaces", async () => {
      const card = await a2aProtocol.fetchCard(`${agent.url}/`, AbortSignal.timeout(5_000));
      assert.equal(card.name, 'test-a2a-agent');
      assert.deepEqual(
        card.skills.find((s) => s.id === 'echo'),
        { id: 'echo', description: 'the echo skill', input_schema: ECHO_SCHEMA },
      );
      assert.equal(card.skills.find((s) => s.id === 'text')?.input_schema, undefined);
      assert.deepEqual(
        card.a2a?.interfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion]),
        [
          [`${agent.url}/`, 'JSONRPC', '1.0'],
          [`${agent.url}/rest`, 'HTTP+JSON', '1.0'],
        ],
      );
    });

    it('maps a 0.3 card (url, preferredTransport) to an interface of version 0.3', () => {
      const legacy = {
        name: 'old-agent',
        description: 'an agent on A2A 0.3',
        protocolVersion: '0.3.0',
        url: 'http://old.example/a2a',
        preferredTransport: 'JSONRPC',
        version: '1',
        capabilities: {},
        defaultInputModes: ['text/plain'],
        defaultOutputModes: ['text/plain'],
        skills: [{ id: 'x', name: 'x', description: 'd', tags: [] }],
      };
      assert.ok(isA2aCard(legacy));
      const card = a2aCardToPallet(legacy);
      assert.deepEqual(card.skills, [{ id: 'x', description: 'd' }]);
      assert.equal(card.a2a?.interfaces[0].url, 'http://old.example/a2a');
      assert.match(card.a2a?.interfaces[0].protocolVersion ?? '', /^0\.3/);
      assert.ok(!isA2aCard({ name: 'pallet', url: 'http://x', skills: [] }), "Pallet's card is not taken for A2A's");
    });

    it('publish-agent takes an A2A card file by its shape, and names the file when it is not a valid one', () => {
      assert.equal(parseCardFile('agent.json', agent.servedCard).name, 'test-a2a-agent');
      assert.deepEqual(parseCardFile('agent.json', agent.servedCard).a2a?.interfaces[0].url, `${agent.url}/`);
      const noInterface = { ...agent.servedCard, supportedInterfaces: [{ url: 'grpc://x', protocolBinding: 'GRPC', protocolVersion: '1.0' }] };
      assert.throws(() => parseCardFile('agent.json', noInterface), /^Error: agent\.json: not a valid A2A agent card: .*no JSONRPC or HTTP\+JSON interface/);
    });

    it('refuses a card naming an interface at a cloud metadata address or that is not a plain base URL, naming the URL', async () => {
      const interfaces = agent.servedCard.supportedInterfaces as Record<string, unknown>[];
      agent.servedCard.supportedInterfaces = [...interfaces, { ...interfaces[0], url: 'http://169.254.169.254/latest' }];
      await assert.rejects(a2aProtocol.fetchCard(agent.url, AbortSignal.timeout(5_000)), /refused.*"http:\/\/169\.254\.169\.254\/latest".*cloud metadata/);
      agent.servedCard.supportedInterfaces = [{ ...interfaces[0], url: `${agent.url}/?token=1` }];
      await assert.rejects(a2aProtocol.fetchCard(agent.url, AbortSignal.timeout(5_000)), /refused.*\?token=1.*query string/);
    });

    it("PALLET_AGENT_URLS: an address without Pallet's /agent-card is read as A2A, its entry says protocol a2a", async () => {
      const { agents, problems } = await new UrlAgentSource([agent.url]).load();
      assert.deepEqual(problems, []);
      assert.deepEqual(
        agents.map((a) => [a.url, a.card.name, a.protocol]),
        [[agent.url, 'test-a2a-agent', A2A_PROTOCOL]],
      );
      const closed = `http://127.0.0.1:${await freePort()}`;
      const down = await new UrlAgentSource([closed]).load();
      assert.deepEqual(down.problems, [`agent at ${closed} is unreachable (ECONNREFUSED)`], 'a down agent is reported once');
    });

    it('registry: an A2A card is told by its shape and its interfaces checked against PALLET_AGENT_HOSTS', async () => {
      const good = agent.servedCard;
      const bad = { ...good, name: 'elsewhere', supportedInterfaces: [{ url: 'http://other.example/', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }] };
      const registry = {
        listAgentCards: async () => ({
          cards: [
            { repository: 'agents/a', tag: 'v1', card: good },
            { repository: 'agents/b', tag: 'v1', card: bad },
          ],
          problems: [],
        }),
      } as unknown as PalletRegistry;
      const listing = await new RegistryAgentSource(registry, 'localhost:5000', [{ text: '127.0.0.1', kind: 'exact', host: '127.0.0.1' }]).load();
      assert.deepEqual(
        listing.agents.map((a) => [a.card.name, a.protocol, a.url]),
        [['test-a2a-agent', 'a2a', agent.url]],
      );
      assert.equal(listing.refused?.length, 1);
      assert.match(listing.problems[0], /agents\/b:v1: A2A card of elsewhere refused.*"http:\/\/other\.example\/".*not allowed by PALLET_AGENT_HOSTS/);
    });
  });

  describe('calls', () => {
    it('one data artifact: its object; the message carries the inputs as one data part, the skill in metadata, the call id as messageId', async () => {
      const opts = options();
      const result = await a2aProtocol.call(await target(agent), 'echo', { text: 'hi' }, opts);
      assert.deepEqual(result, { text: 'hi' });
      assert.equal(agent.seen.sends.length, 1);
      const [sent] = agent.seen.sends;
      assert.equal(sent.messageId, 'wf/run/step');
      assert.deepEqual(sent.metadata, { skill: 'echo' });
      assert.deepEqual(
        sent.parts.map((p) => p.content),
        [{ $case: 'data', value: { text: 'hi' } }],
      );
      assert.equal(opts.tasks.length, 1, 'the task is reported once, as soon as it is known');
      assert.ok(agent.seen.gets >= 1, 'the task was followed with GetTask');
    });

    it('text parts only: the joined text; several artifacts: an object by name; a direct message reply: its parts by the same rule', async () => {
      const t = await target(agent);
      assert.equal(await a2aProtocol.call(t, 'text', {}, options()), 'first line\nsecond line');
      assert.deepEqual(await a2aProtocol.call(t, 'several', {}, options()), { plan: { steps: 2 }, notes: 'keep it short' });
      assert.deepEqual(await a2aProtocol.call(t, 'reply', { a: 1 }, options()), { direct: { a: 1 } });
    });

    it('over HTTP+JSON as well, when the card names it first', async () => {
      const rest = await startAgent('HTTP+JSON');
      try {
        assert.deepEqual(await a2aProtocol.call(await target(rest), 'echo', { text: 'rest' }, options()), { text: 'rest' });
        assert.equal(rest.seen.sends.length, 1);
      } finally {
        await rest.close();
      }
    });

    it("failed and rejected tasks: AgentSkillError, not retryable, with the agent's status message; auth-required says credentials are needed", async () => {
      const t = await target(agent);
      const failed = await failure(a2aProtocol.call(t, 'fail', {}, options()));
      assert.equal(failed.type, FailureTypes.agentSkillError);
      assert.equal(failed.nonRetryable, true);
      assert.match(failed.message, /test-a2a-agent.*failed the task .*: the model is overloaded/);
      const rejected = await failure(a2aProtocol.call(t, 'reject', {}, options()));
      assert.equal(rejected.type, FailureTypes.agentSkillError);
      assert.match(rejected.message, /rejected the task .*I do not translate poetry/);
      const auth = await failure(a2aProtocol.call(t, 'auth', {}, options()));
      assert.equal(auth.type, FailureTypes.agentRejected);
      assert.equal(auth.nonRetryable, true);
      assert.match(auth.message, /needs credentials.*sign in to the code host.*PALLET_AGENT_CREDENTIALS/);
    });

    it('HTTP 5xx is AgentServerError (retryable), 4xx AgentRejected, an unreachable agent AgentUnavailable (retryable)', async () => {
      const t = await target(agent);
      agent.failWith = 503;
      const server = await failure(a2aProtocol.call(t, 'echo', {}, options()));
      assert.deepEqual([server.type, server.nonRetryable], [FailureTypes.agentServerError, false]);
      assert.match(server.message, /HTTP 503.*bad day/);
      agent.failWith = 403;
      const rejected = await failure(a2aProtocol.call(t, 'echo', {}, options()));
      assert.deepEqual([rejected.type, rejected.nonRetryable], [FailureTypes.agentRejected, true]);
      await agent.close();
      const down = await failure(a2aProtocol.call(t, 'echo', {}, options()));
      assert.deepEqual([down.type, down.nonRetryable], [FailureTypes.agentUnavailable, false]);
    });

    it('input-required: InputRequired with the question and its data; the answer continues the same task', async () => {
      const t = await target(agent);
      const first = options();
      const asked = await a2aProtocol.call(t, 'ask', {}, first).then(
        () => assert.fail('expected a question'),
        (e: unknown) => e,
      );
      assert.ok(asked instanceof InputRequired);
      assert.equal(asked.question, 'Which color?');
      assert.deepEqual(asked.data, { choices: ['red', 'blue'] });
      assert.equal(asked.task.taskId, first.tasks[0].taskId);

      const answered = await a2aProtocol.call(t, 'ask', {}, options({ answer: { ...asked.task, text: 'blue' } }));
      assert.deepEqual(answered, { color: 'blue' });
      assert.equal(agent.seen.sends.length, 2, 'the question, then the answer');
      const answer = agent.seen.sends[1];
      assert.equal(answer.taskId, asked.task.taskId, 'the answer goes to the task that asked');
      assert.deepEqual(answer.metadata, { skill: 'ask' });
      assert.notEqual(answer.messageId, 'wf/run/step');

      // Sent again (an attempt that crashed after answering): the task is followed, not answered twice.
      assert.deepEqual(await a2aProtocol.call(t, 'ask', {}, options({ answer: { ...asked.task, text: 'blue' } })), { color: 'blue' });
      assert.equal(agent.seen.sends.length, 2);
    });

    it('resume: an attempt after a worker shutdown follows the same task and never sends again; the task is not cancelled', async () => {
      const t = await target(agent);
      const stop = new AbortController();
      const first = options({ signal: stop.signal, onTask: (task) => (first.tasks.push(task), stop.abort(new CancelledFailure('WORKER_SHUTDOWN'))) });
      await assert.rejects(a2aProtocol.call(t, 'echo', { text: 'once' }, first), (e: unknown) => e instanceof CancelledFailure);
      assert.equal(first.tasks.length, 1);
      assert.equal(agent.seen.sends.length, 1);

      const gets = agent.seen.gets;
      const resumed = await a2aProtocol.call(t, 'echo', { text: 'once' }, options({ resume: first.tasks[0] }));
      assert.deepEqual(resumed, { text: 'once' });
      assert.equal(agent.seen.sends.length, 1, 'one send for the step, whatever the attempts');
      assert.ok(agent.seen.gets > gets);
      assert.deepEqual(agent.seen.cancelled, []);
    });

    it('cancellation: the run cancelled sends CancelTask for the task and throws the reason; a timeout does not cancel it', async () => {
      const t = await target(agent);
      const stop = new AbortController();
      const opts = options({ signal: stop.signal });
      setTimeout(() => stop.abort(new CancelledFailure('CANCELLED')), 800);
      await assert.rejects(a2aProtocol.call(t, 'slow', {}, opts), (e: unknown) => e instanceof CancelledFailure && e.message === 'CANCELLED');
      assert.deepEqual(agent.seen.cancelled, [opts.tasks[0].taskId]);

      const timeout = options({ signal: AbortSignal.timeout(800) });
      await assert.rejects(a2aProtocol.call(t, 'slow', {}, timeout), (e: unknown) => (e as Error).name === 'TimeoutError');
      assert.deepEqual(agent.seen.cancelled.length, 1, 'the next attempt follows the task: it is not cancelled');
    });

    it('credentials go as headers on every request and appear in no failure', async () => {
      const t = await target(agent);
      agent.seen.authorization.length = 0;
      const headers = { authorization: `Bearer ${SECRET}` };
      assert.deepEqual(await a2aProtocol.call(t, 'echo', { text: 'x' }, options({ headers })), { text: 'x' });
      const failures = [await failure(a2aProtocol.call(t, 'fail', {}, options({ headers })))];
      agent.failWith = 401;
      failures.push(await failure(a2aProtocol.call(t, 'echo', {}, options({ headers }))));
      assert.ok(agent.seen.authorization.length >= 4);
      assert.deepEqual(new Set(agent.seen.authorization), new Set([`Bearer ${SECRET}`]));
      for (const f of failures) assert.ok(!JSON.stringify([f.message, f.details, f.stack]).includes(SECRET), `the secret leaked into: ${f.message}`);
      assert.ok(
        agent.seen.sends.every((m) => !JSON.stringify(m).includes(SECRET)),
        'nor into a message',
      );
    });
  });
});
