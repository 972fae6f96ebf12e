// The MCP protocol against a real MCP server built on the official TS SDK (McpServer with the
// Streamable HTTP transport, on a loopback HTTP server): what a tool's result becomes, how the
// server's failures fail the step, the call id and credentials sent, and sessions closed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { CALL_ID_META, fetchMcpCard, mcpProtocol, mcpResult } from '../../../src/agents/mcp';
import type { AgentCard } from '../../../src/agents/card';
import type { CallOptions } from '../../../src/agents/protocol';
import { FailureTypes } from '../../../src/contract';
import { freePort } from '../../helpers/net';

const SECRET = 'k3y-0f-the-t00ls-7f1c';

/** The tools of the test server; `seen` records each request's headers and the call ids tools were given. */
function toolServer(seen: { callIds: unknown[] }): McpServer {
  const server = new McpServer({ name: 'test-tools', version: '1.0.0' });
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { sum: z.number() } },
    async ({ a, b }, extra) => {
      seen.callIds.push(extra._meta?.[CALL_ID_META]);
      return { content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } };
    },
  );
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('parts', {}, async () => ({
    content: [
      { type: 'text', text: 'a chart' },
      { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    ],
  }));
  server.registerTool('fail', {}, async () => ({ content: [{ type: 'text', text: 'the disk is full' }], isError: true }));
  server.registerTool('big', {}, async () => ({ content: [{ type: 'text', text: 'x'.repeat(200_000) }] }));
  server.registerTool('slow', {}, async (extra) => {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      extra.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)));
    });
    return { content: [{ type: 'text', text: 'too late' }] };
  });
  return server;
}

interface TestServer {
  url: string;
  /** Headers of every request to /secure/mcp. */
  secureHeaders: Record<string, string | string[] | undefined>[];
  callIds: unknown[];
  /** Sessions open now. */
  sessions: Map<string, StreamableHTTPServerTransport>;
  close(): Promise<void>;
}

/** /mcp: the tools; /secure/mcp: the same, only with the API key (401 without); /broken/mcp: 503; /moved/mcp: a redirect to /mcp. */
async function startServer(): Promise<TestServer> {
  const seen = { callIds: [] as unknown[] };
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const secureHeaders: TestServer['secureHeaders'] = [];
  const mcp = async (req: IncomingMessage, res: ServerResponse) => {
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (!transport) {
      if (sid) return void res.writeHead(404).end('no such session');
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      await toolServer(seen).connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  };
  const http = createServer((req, res) => {
    const path = req.url ?? '';
    if (path === '/mcp') return void mcp(req, res);
    if (path === '/secure/mcp') {
      secureHeaders.push({ ...req.headers });
      if (req.headers['x-api-key'] !== SECRET) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"an API key is required"}');
      return void mcp(req, res);
    }
    if (path === '/broken/mcp') return void res.writeHead(503).end('down for maintenance');
    if (path === '/moved/mcp') return void res.writeHead(307, { location: '/mcp' }).end();
    res.writeHead(404).end();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    secureHeaders,
    callIds: seen.callIds,
    sessions,
    close: () => new Promise((resolve) => (http.closeAllConnections(), http.close(() => resolve()))),
  };
}

const CARD: AgentCard = { name: 'tools', skills: [] };

function options(extra: Partial<CallOptions> = {}): CallOptions {
  return { callId: 'wf-1/run-1/step', signal: new AbortController().signal, maxReplyBytes: 1024 * 1024, ...extra };
}

/** The ApplicationFailure a call fails with. */
async function failure(call: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await call.then(
    (result) => assert.fail(`the call succeeded with ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, `not an ApplicationFailure: ${String(err)}`);
  return err;
}

describe('MCP protocol (official SDK server)', function () {
  this.timeout(20_000);
  let server: TestServer;
  let url: string;

  before(async () => {
    server = await startServer();
    url = `${server.url}/mcp`;
  });
  after(() => server.close());

  it('lists the tools as skills name.tool, with their input schemas', async () => {
    const card = await fetchMcpCard('tools', url, AbortSignal.timeout(5_000));
    assert.equal(card.name, 'tools');
    assert.deepEqual(card.skills.map((s) => s.id).sort(), ['tools.add', 'tools.big', 'tools.echo', 'tools.fail', 'tools.parts', 'tools.slow']);
    const add = card.skills.find((s) => s.id === 'tools.add');
    assert.equal(add?.description, 'Adds two numbers');
    assert.deepEqual(add?.input_schema?.required, ['a', 'b']);
    assert.deepEqual(add?.input_schema?.properties, { a: { type: 'number' }, b: { type: 'number' } });
    assert.ok(add?.output_schema, 'the output schema is on the card');
  });

  it('stores structuredContent, and sends the call id in _meta', async () => {
    const result = await mcpProtocol.call({ url, card: CARD }, 'tools.add', { a: 2, b: 40 }, options({ callId: 'wf-1/run-1/sum' }));
    assert.deepEqual(result, { sum: 42 });
    assert.equal(server.callIds.at(-1), 'wf-1/run-1/sum');
  });

  it('stores one text part as its text, or as the JSON object it holds', async () => {
    assert.equal(await mcpProtocol.call({ url, card: CARD }, 'tools.echo', { text: 'hello' }, options()), 'hello');
    assert.deepEqual(await mcpProtocol.call({ url, card: CARD }, 'tools.echo', { text: '{"ok": true, "n": [1]}' }, options()), { ok: true, n: [1] });
    // JSON that is not an object or array stays text; so does text that only looks like JSON.
    assert.equal(await mcpProtocol.call({ url, card: CARD }, 'tools.echo', { text: '42' }, options()), '42');
    assert.equal(await mcpProtocol.call({ url, card: CARD }, 'tools.echo', { text: '{not json' }, options()), '{not json');
  });

  it('stores several parts as the list of parts', async () => {
    const result = await mcpProtocol.call({ url, card: CARD }, 'tools.parts', {}, options());
    assert.deepEqual(result, [
      { type: 'text', text: 'a chart' },
      { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    ]);
    assert.equal(mcpResult({ content: [] }), null);
  });

  it('fails the step with the tool text when the tool reports isError', async () => {
    const err = await failure(mcpProtocol.call({ url, card: CARD }, 'tools.fail', {}, options()));
    assert.equal(err.type, FailureTypes.agentSkillError);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /tool "fail" reported an error: the disk is full/);
  });

  it('fails a tool the server does not have as an unknown skill', async () => {
    const err = await failure(mcpProtocol.call({ url, card: CARD }, 'tools.nope', {}, options()));
    assert.equal(err.type, FailureTypes.unknownSkill);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /does not offer tool "nope"/);
  });

  it('closes its session after each call', async () => {
    await mcpProtocol.call({ url, card: CARD }, 'tools.echo', { text: 'x' }, options());
    await fetchMcpCard('tools', url, AbortSignal.timeout(5_000));
    assert.equal(server.sessions.size, 0);
  });

  it('sends the credentials on every request, and never into a failure', async () => {
    const secure = `${server.url}/secure/mcp`;
    server.secureHeaders.length = 0;
    const headers = { 'x-api-key': SECRET };
    assert.deepEqual(await mcpProtocol.call({ url: secure, card: CARD }, 'tools.add', { a: 1, b: 1 }, options({ headers })), { sum: 2 });
    assert.ok(server.secureHeaders.length >= 3, `initialize, initialized and tools/call at least, not ${server.secureHeaders.length} requests`);
    assert.ok(server.secureHeaders.every((h) => h['x-api-key'] === SECRET));

    const failed = await failure(mcpProtocol.call({ url: secure, card: CARD }, 'tools.fail', {}, options({ headers })));
    const wrong = await failure(
      mcpProtocol.call({ url: secure, card: CARD }, 'tools.add', { a: 1, b: 1 }, options({ headers: { 'x-api-key': `${SECRET}-old` } })),
    );
    assert.equal(wrong.type, FailureTypes.agentRejected);
    assert.match(wrong.message, /HTTP 401/);
    for (const err of [failed, wrong]) assert.ok(!JSON.stringify({ m: err.message, d: err.details, s: err.stack }).includes(SECRET), err.message);
  });

  it('classifies the server failures: 5xx retried, a redirect refused, unreachable retried', async () => {
    const down = await failure(mcpProtocol.call({ url: `${server.url}/broken/mcp`, card: CARD }, 'tools.add', {}, options()));
    assert.equal(down.type, FailureTypes.agentServerError);
    assert.equal(down.nonRetryable, false);
    assert.match(down.message, /HTTP 503/);

    const moved = await failure(mcpProtocol.call({ url: `${server.url}/moved/mcp`, card: CARD }, 'tools.add', {}, options()));
    assert.equal(moved.type, FailureTypes.agentRejected);
    assert.equal(moved.nonRetryable, true);

    const nowhere = await failure(mcpProtocol.call({ url: `http://127.0.0.1:${await freePort()}/mcp`, card: CARD }, 'tools.add', {}, options()));
    assert.equal(nowhere.type, FailureTypes.agentUnavailable);
    assert.equal(nowhere.nonRetryable, false);
    assert.match(nowhere.message, /unreachable \(ECONNREFUSED\)/);
  });

  it('refuses a reply over the limit', async () => {
    const err = await failure(mcpProtocol.call({ url, card: CARD }, 'tools.big', {}, options({ maxReplyBytes: 50_000 })));
    assert.equal(err.type, FailureTypes.resultTooLarge);
  });

  it('stops when the signal aborts, with its reason', async () => {
    const abort = new AbortController();
    const reason = new Error('the step was cancelled');
    setTimeout(() => abort.abort(reason), 300);
    const started = Date.now();
    await assert.rejects(mcpProtocol.call({ url, card: CARD }, 'tools.slow', {}, options({ signal: abort.signal })), (err) => err === reason);
    assert.ok(Date.now() - started < 5_000);
  });
});
