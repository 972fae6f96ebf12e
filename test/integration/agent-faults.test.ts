// Agents that misbehave on the wire, on a real Temporal dev server with a real worker: a
// 300 MB reply (the size that took a worker from 417 MB to 1.57 GB in issue #9) fails its
// step at once with a clear message while the worker's memory stays flat, and a reply that
// carries another call's JSON-RPC id fails its step naming both ids.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_REPLY_BYTES } from '../../src/activities/call-agent';
import { withWorker } from '../helpers/worker';
import { def, failureMessage } from '../helpers/runs';

const HUGE_REPLY_BYTES = 300 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const MB = 1024 * 1024;

interface FaultyAgent {
  url: string;
  /** Calls received, by skill. */
  calls: Record<string, number>;
  /** Bytes the `huge` skill wrote before the worker hung up, per call. */
  hugeBytesSent: number[];
  close(): Promise<void>;
}

/**
 * An agent whose skills misbehave: `huge` streams a valid JSON-RPC reply of 300 MB (chunked,
 * no Content-Length, generated as it goes so the agent itself stays small); `wrong_id`
 * answers with another call's id; `fine` answers properly.
 */
async function startFaultyAgent(): Promise<FaultyAgent> {
  const calls: Record<string, number> = {};
  const hugeBytesSent: number[] = [];
  const server = http.createServer((req, res) => {
    res.on('error', () => undefined);
    req.socket.on('error', () => undefined);
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/agent-card') {
      return send({ name: 'faulty-agent', skills: ['huge', 'wrong_id', 'fine'].map((id) => ({ id, description: id })) });
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const rpc = JSON.parse(Buffer.concat(parts).toString()) as { method: string; params: Record<string, unknown>; id: unknown };
      calls[rpc.method] = (calls[rpc.method] ?? 0) + 1;
      if (rpc.method === 'fine') return send({ jsonrpc: '2.0', result: { ok: true }, id: rpc.id });
      if (rpc.method === 'wrong_id') return send({ jsonrpc: '2.0', result: { ok: true }, id: 'a-call-from-yesterday' });
      // huge
      const index = hugeBytesSent.push(0) - 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(rpc.id)},"result":"`);
      let left = HUGE_REPLY_BYTES;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          hugeBytesSent[index] += n;
          if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"}');
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    hugeBytesSent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Samples this process's RSS every few milliseconds while `body` runs: its peak above the start. */
async function rssGrowth<T>(body: () => Promise<T>): Promise<{ value: T; baseMB: number; peakMB: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    const value = await body();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, baseMB: base / MB, peakMB: peak / MB };
  } finally {
    clearInterval(timer);
  }
}

describe('agents that misbehave on the wire (real Temporal server, real worker)', function () {
  this.timeout(120_000);
  let agent: FaultyAgent;

  before(async () => {
    agent = await startFaultyAgent();
  });
  after(() => agent.close());

  it('a 300 MB reply fails its step at once, naming the step and the limit, and the worker memory stays flat', async () => {
    const definition = def(`
metadata: { id: huge-reply, name: HugeReply, version: "1" }
steps:
  - { id: warm_up, skill: fine, inputs: {} }
  - { id: swallow, skill: huge, inputs: {}, timeout: 60 }
`);
    const {
      value: message,
      baseMB,
      peakMB,
    } = await withWorker({ agentUrls: [agent.url] }, async ({ start }) => {
      // A first run warms the worker up (workflow bundle, agent card, connections), so that
      // the measurement below sees the huge reply only.
      const warm = def(`
metadata: { id: warm, name: Warm, version: "1" }
steps: [{ id: warm_up, skill: fine, inputs: {} }]
`);
      await (await start({ definition: warm, input: {} })).result();
      return rssGrowth(async () => failureMessage((await start({ definition, input: {} })).result()));
    });
    const growthMB = peakMB - baseMB;
    if (process.env.DEBUG_MEMORY) {
      console.log(
        `      worker RSS ${baseMB.toFixed(0)} MB -> peak ${peakMB.toFixed(0)} MB (+${growthMB.toFixed(0)} MB) for a ${HUGE_REPLY_BYTES / MB} MB reply; the agent wrote ${(agent.hugeBytesSent[0] / MB).toFixed(1)} MB`,
      );
    }

    assert.match(
      message,
      new RegExp(
        `^Step "swallow" failed \\(skill huge\\): agent faulty-agent \\(.*\\) replied with more than ${MAX_REPLY_BYTES} bytes \\(the limit of a reply; stopped reading after \\d+ bytes\\)`,
      ),
    );
    assert.equal(agent.calls.huge, 1, 'a reply over the limit is not retried');
    // The worker hung up after a few MB: the agent could not push the whole reply.
    assert.ok(agent.hugeBytesSent[0] < 32 * MB, `the agent wrote ${agent.hugeBytesSent[0]} bytes before the worker hung up`);
    // Reading the reply whole took +1.2 GB; bounded, a few tens of MB at most.
    assert.ok(
      growthMB < 100,
      `worker RSS grew by ${growthMB.toFixed(0)} MB (${baseMB.toFixed(0)} -> ${peakMB.toFixed(0)} MB) for a ${HUGE_REPLY_BYTES / MB} MB reply`,
    );
  });

  it("a reply carrying another call's JSON-RPC id fails its step at once, naming both ids", async () => {
    const definition = def(`
metadata: { id: wrong-id, name: WrongId, version: "1" }
steps:
  - { id: first, skill: fine, inputs: {} }
  - { id: mixed_up, skill: wrong_id, inputs: {} }
`);
    const before = agent.calls.wrong_id ?? 0;
    const workflowId = `wrong-id-${process.pid}-${Date.now()}`;
    const message = await withWorker({ agentUrls: [agent.url] }, async ({ start }) => {
      const handle = await start({ definition, input: {} }, workflowId);
      return failureMessage(handle.result());
    });
    assert.match(
      message,
      /^Step "mixed_up" failed \(skill wrong_id\): agent faulty-agent \(.*\) answered with JSON-RPC id "a-call-from-yesterday" to the call with id "([^"]+)": the reply is not for this call/,
    );
    const sent = /to the call with id "([^"]+)"/.exec(message)?.[1] ?? '';
    assert.match(sent, new RegExp(`^${workflowId}/[0-9a-f-]+/mixed_up$`), 'the id sent names the run and the step');
    assert.equal((agent.calls.wrong_id ?? 0) - before, 1, 'a reply with a wrong id is not retried');
  });
});
