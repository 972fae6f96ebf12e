// The agent server's protocol, with a toy agent: card, calls, errors, idempotent replay.
import assert from 'node:assert/strict';
import { startAgentServer, type RunningAgent } from '../../../../examples/agents/server';
import { SkillError, type AgentSpec } from '../../../../examples/agents/types';
import { getCard, rpc } from './rpc';

describe('agent server (Pallet JSON-RPC)', () => {
  let runs = 0;
  let release: (() => void) | undefined;
  const toy: AgentSpec = {
    name: 'toy-agent',
    defaultPort: 0,
    skills: [
      {
        id: 'echo',
        description: 'Echoes its input and counts the runs',
        input_schema: {
          type: 'object',
          properties: { text: { type: 'string' }, times: { type: 'integer', minimum: 1 }, note: { type: 'string' } },
          required: ['text'],
        },
        output_schema: { type: 'object' },
        run: (p) => ({ echoed: String(p.text).repeat(Number(p.times ?? 1)), run: ++runs, note: p.note ?? 'none' }),
      },
      {
        id: 'fail',
        description: 'Always fails',
        input_schema: { type: 'object' },
        output_schema: { type: 'object' },
        run: () => {
          runs++;
          throw new SkillError('the toy broke');
        },
      },
      {
        id: 'slow',
        description: 'Waits until the test releases it',
        input_schema: { type: 'object' },
        output_schema: { type: 'object' },
        run: async () => {
          runs++;
          await new Promise<void>((resolve) => (release = resolve));
          return { run: runs };
        },
      },
      {
        id: 'nothing',
        description: 'Returns undefined',
        input_schema: { type: 'object' },
        output_schema: { type: 'null' },
        run: () => undefined,
      },
    ],
  };
  let agent: RunningAgent;
  const logs: string[] = [];

  before(async () => {
    agent = await startAgentServer(toy, { host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
  });
  after(() => agent.close());
  beforeEach(() => (runs = 0));

  it('serves its card with the URL it actually listens on', async () => {
    assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(agent.url, 'http://127.0.0.1:0');
    const card = await getCard(agent.url);
    assert.equal(card.name, 'toy-agent');
    assert.equal(card.url, agent.url);
    assert.deepEqual(
      card.skills.map((s) => s.id),
      ['echo', 'fail', 'slow', 'nothing'],
    );
    assert.deepEqual(Object.keys(card.skills[0]).sort(), ['description', 'id', 'input_schema', 'output_schema']);
  });

  it('answers /healthz, and 404/405 for other routes', async () => {
    const health = await fetch(`${agent.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', agent: 'toy-agent', skills: ['echo', 'fail', 'slow', 'nothing'] });
    assert.equal((await fetch(`${agent.url}/nope`)).status, 404);
    assert.equal((await fetch(`${agent.url}/execute`)).status, 405);
  });

  it('returns the result of a successful call with the request id', async () => {
    const reply = await rpc(agent.url, 'echo', { text: 'ab', times: 2 }, { id: 'call-1' });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { jsonrpc: '2.0', result: { echoed: 'abab', run: 1, note: 'none' }, id: 'call-1' });
    assert.ok(logs.some((l) => /toy-agent: echo ok/.test(l)));
  });

  it('returns null for a skill without a result', async () => {
    const reply = await rpc(agent.url, 'nothing', {});
    assert.deepEqual(reply.body.result, null);
  });

  it('answers an unknown skill with HTTP 404 and a JSON-RPC error', async () => {
    const reply = await rpc(agent.url, 'frobnicate', {}, { id: 7 });
    assert.equal(reply.status, 404);
    assert.equal(reply.body.error?.code, -32601);
    assert.match(reply.body.error!.message, /no skill "frobnicate".*echo, fail/);
    assert.equal(reply.body.id, 7);
  });

  it('rejects params that fail the input schema, naming the field, without running the skill', async () => {
    const missing = await rpc(agent.url, 'echo', { times: 2 });
    assert.equal(missing.status, 200);
    assert.equal(missing.body.error?.code, -32602);
    assert.match(missing.body.error!.message, /missing required field "text"/);

    const wrongType = await rpc(agent.url, 'echo', { text: 'a', times: 'two' });
    assert.match(wrongType.body.error!.message, /field "times" must be integer/);

    const notObject = await rpc(agent.url, 'echo', ['a']);
    assert.match(notObject.body.error!.message, /"params" must be an object/);
    assert.equal(runs, 0);
  });

  it('treats null as absent for optional params (Pallet resolves missing paths to null)', async () => {
    const reply = await rpc(agent.url, 'echo', { text: 'a', note: null });
    assert.deepEqual(reply.body.result, { echoed: 'a', run: 1, note: 'none' });
    const required = await rpc(agent.url, 'echo', { text: null });
    assert.match(required.body.error!.message, /field "text" must be string/);
  });

  it('reports a failing skill as HTTP 200 with error code -1', async () => {
    const reply = await rpc(agent.url, 'fail', {}, { id: 'f-1' });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { jsonrpc: '2.0', error: { code: -1, message: 'the toy broke' }, id: 'f-1' });
  });

  it('answers malformed JSON and non-requests with HTTP 400', async () => {
    const post = (body: string) => fetch(`${agent.url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const bad = await post('{"jsonrpc": "2.0", "method": ');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: number } }).error.code, -32700);
    for (const body of ['[1, 2]', '"echo"', '{"jsonrpc":"2.0","params":{}}', '{"jsonrpc":"1.0","method":"echo","params":{"text":"a"}}']) {
      const r = await post(body);
      assert.equal(r.status, 400, body);
      assert.equal(((await r.json()) as { error: { code: number } }).error.code, -32600, body);
    }
    assert.equal(runs, 0);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const small = await startAgentServer(toy, { port: 0, maxBodyBytes: 100 });
    try {
      const r = await rpc(small.url, 'echo', { text: 'x'.repeat(500) });
      assert.equal(r.status, 413);
    } finally {
      await small.close();
    }
  });

  it('replays a retried call with the same id without running the skill again', async () => {
    const first = await rpc(agent.url, 'echo', { text: 'x' }, { id: 'wf/run/step' });
    const again = await rpc(agent.url, 'echo', { text: 'x' }, { id: 'wf/run/step' });
    assert.equal(runs, 1);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.headers.get('idempotent-replayed'), null);
  });

  it('keys the replay on the Idempotency-Key header when one is sent', async () => {
    const a = await rpc(agent.url, 'echo', { text: 'k' }, { id: 'one', headers: { 'idempotency-key': 'step-key' } });
    const b = await rpc(agent.url, 'echo', { text: 'k' }, { id: 'two', headers: { 'idempotency-key': 'step-key' } });
    assert.equal(runs, 1);
    assert.deepEqual(b.body.result, a.body.result);
    assert.equal(b.body.id, 'two', 'the reply carries the id of the request it answers');
  });

  it('runs again when an id is reused for a different call, and when no id is sent', async () => {
    await rpc(agent.url, 'echo', { text: 'p' }, { id: 1 });
    const other = await rpc(agent.url, 'echo', { text: 'q' }, { id: 1 });
    assert.deepEqual(other.body.result, { echoed: 'q', run: 2, note: 'none' });
    await rpc(agent.url, 'echo', { text: 'p' }, { id: null });
    await rpc(agent.url, 'echo', { text: 'p' }, { id: null });
    assert.equal(runs, 4);
  });

  it('does not keep failures: a retry of a failed call runs again', async () => {
    await rpc(agent.url, 'fail', {}, { id: 'retry-me' });
    const again = await rpc(agent.url, 'fail', {}, { id: 'retry-me' });
    assert.equal(again.body.error?.code, -1);
    assert.equal(runs, 2);
  });

  it('lets a duplicate that arrives while the first call runs wait for its answer', async () => {
    const first = rpc(agent.url, 'slow', {}, { id: 'slow-1' });
    while (!release) await new Promise((r) => setTimeout(r, 5));
    const second = rpc(agent.url, 'slow', {}, { id: 'slow-1' });
    await new Promise((r) => setTimeout(r, 50));
    release();
    release = undefined;
    const [a, b] = await Promise.all([first, second]);
    assert.equal(runs, 1);
    assert.deepEqual(a.body.result, { run: 1 });
    assert.deepEqual(b.body.result, { run: 1 });
  });

  it('reports a port in use clearly', async () => {
    const port = Number(new URL(agent.url).port);
    await assert.rejects(startAgentServer(toy, { port }), /toy-agent: port \d+ is already in use/);
  });

  it('puts publicUrl on the card when given', async () => {
    const other = await startAgentServer(toy, { port: 0, publicUrl: 'http://toy.internal:9000/' });
    try {
      assert.equal(other.url, 'http://toy.internal:9000');
      assert.equal((await getCard(other.boundUrl)).url, 'http://toy.internal:9000');
    } finally {
      await other.close();
    }
  });
});
