// PALLET_MCP_SERVERS as agents: each server's tools, every page of them, become skills
// `name.tool` with their input schemas; two servers' tools of one name stay two skills; a server
// that cannot be listed is a problem naming it; the host's credentials are sent. Then a step
// through the callAgent activity: its inputs checked against the tool's inputSchema, the tool
// called. The servers are built on the official TS SDK (the low-level Server, stateless
// Streamable HTTP) on loopback ports.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { createCallAgent } from '../../../src/activities/call-agent';
import { parseAgentCredentials } from '../../../src/agents/credentials';
import { FailureTypes } from '../../../src/contract';
import { parseMcpServers } from '../../../src/settings';
import { AgentDirectory } from '../../../src/sources/agents';
import { MCP_ORIGIN, McpAgentSource } from '../../../src/sources/mcp-servers';
import { freePort } from '../../helpers/net';

const ECHO: Tool = { name: 'echo', description: 'Says it back', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } };
const REVERSE: Tool = { name: 'reverse', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } };

interface ToolHost {
  url: string;
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A stateless MCP server listing `pages` of tools (a cursor per page); its tools answer `{tool, text}`. */
async function startToolHost(pages: Tool[][]): Promise<ToolHost> {
  const headers: IncomingHttpHeaders[] = [];
  const http = createServer((req, res) => {
    headers.push(req.headers);
    const server = new Server({ name: 'paged-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async (request) => {
      const page = Number(request.params?.cursor ?? 0);
      return { tools: pages[page], ...(page + 1 < pages.length ? { nextCursor: String(page + 1) } : {}) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request) => ({
      content: [],
      structuredContent: { tool: request.params.name, text: request.params.arguments?.text },
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    headers,
    close: () => new Promise((resolve) => (http.closeAllConnections(), http.close(() => resolve()))),
  };
}

describe('MCP servers as agents (PALLET_MCP_SERVERS)', function () {
  this.timeout(20_000);
  let a: ToolHost;
  let b: ToolHost;

  before(async () => {
    a = await startToolHost([[ECHO], [REVERSE]]);
    b = await startToolHost([[ECHO]]);
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('lists every page of each server as skills name.tool, in the configured order', async () => {
    const source = new McpAgentSource(parseMcpServers(`srv=${a.url}, other=${b.url}`));
    const { agents, problems } = await source.load();
    assert.deepEqual(problems, []);
    assert.deepEqual(
      agents.map((e) => [e.card.name, e.url, e.protocol, e.origin, e.card.skills.map((s) => s.id)]),
      [
        ['srv', a.url, 'mcp', MCP_ORIGIN, ['srv.echo', 'srv.reverse']],
        ['other', b.url, 'mcp', MCP_ORIGIN, ['other.echo']],
      ],
    );
    const echo = agents[0].card.skills[0];
    assert.equal(echo.description, 'Says it back');
    assert.deepEqual(echo.input_schema, ECHO.inputSchema);

    // The same tool on two servers is two skills: no skill is shared, so none is taken silently.
    const listing = await new AgentDirectory([source]).agents();
    assert.deepEqual(listing.warnings, []);
    assert.equal((await new AgentDirectory([source]).find('other.echo')).url, b.url);
  });

  it('reports a server that cannot be listed, naming it', async () => {
    const down = `http://127.0.0.1:${await freePort()}/mcp`;
    const { agents, problems } = await new McpAgentSource(parseMcpServers(`gone=${down},srv=${a.url}`)).load();
    assert.deepEqual(
      agents.map((e) => e.card.name),
      ['srv'],
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0], new RegExp(`^MCP server gone at ${down.replace(/[.]/g, '\\.')}: cannot list its tools \\(ECONNREFUSED\\)$`));
  });

  it("sends the server's host credentials when listing", async () => {
    const host = new URL(b.url).host;
    const credentials = parseAgentCredentials(JSON.stringify({ [host]: { bearer: 'list-t0ken-3a9' } }));
    b.headers.length = 0;
    await new McpAgentSource(parseMcpServers(`other=${b.url}`), credentials).load();
    assert.ok(b.headers.length > 0);
    assert.ok(b.headers.every((h) => h.authorization === 'Bearer list-t0ken-3a9'));
  });

  it("a step's inputs are checked against the tool's inputSchema, then the tool is called", async () => {
    const directory = new AgentDirectory([new McpAgentSource(parseMcpServers(`srv=${a.url}`))]);
    const callAgent = createCallAgent({ directory });
    const env = () => new MockActivityEnvironment({ workflowExecution: { workflowId: 'wf', runId: 'r' }, attempt: 1 }, { logger: new DefaultLogger('ERROR') });
    const reply = await env().run(callAgent, { stepId: 'say', skill: 'srv.reverse', inputs: { text: 'abc' } });
    assert.deepEqual(reply, { result: { tool: 'reverse', text: 'abc' }, agent: a.url });

    await assert.rejects(env().run(callAgent, { stepId: 'say', skill: 'srv.echo', inputs: { text: 7 } }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, FailureTypes.invalidInput);
      assert.match(err.message, /input_schema of skill "srv.echo" on agent srv: input "text" must be string/);
      return true;
    });
  });

  it('refuses a malformed PALLET_MCP_SERVERS entry, naming it', () => {
    assert.deepEqual(parseMcpServers(' files=http://localhost:9000/mcp/ ,, web-2=https://tools.example.com '), [
      { name: 'files', url: 'http://localhost:9000/mcp' },
      { name: 'web-2', url: 'https://tools.example.com' },
    ]);
    assert.deepEqual(parseMcpServers(undefined), []);
    assert.throws(() => parseMcpServers('http://localhost:9000/mcp'), /PALLET_MCP_SERVERS: "http:\/\/localhost:9000\/mcp" has no "="/);
    assert.throws(() => parseMcpServers('my.files=http://h/mcp'), /"my\.files=http:\/\/h\/mcp" has a name that is not letters, digits/);
    assert.throws(() => parseMcpServers('f=http://a/mcp,f=http://b/mcp'), /"f=http:\/\/b\/mcp" names server "f" a second time/);
    assert.throws(() => parseMcpServers('f=http://h/mcp?key=1'), /"f=http:\/\/h\/mcp\?key=1" is not a plain base URL: it has a query string/);
    assert.throws(() => parseMcpServers('f=ftp://h/mcp'), /is not a plain base URL: its scheme is "ftp"/);
  });
});
