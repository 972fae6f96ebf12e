// pallet serve's MCP server (src/serve/mcp.ts) on a loopback HTTP server, driven by the official
// TS SDK client, with a test double of WorkflowRuns: tools from the catalog, a call's result,
// progress, failures, waits, idempotency keys and arguments refused by the input schema.
// The real runs behind it: test/integration/serve-mcp.test.ts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { ServedRun, ServedWorkflow, WorkflowRuns } from '../../../src/serve/contract';
import { RunRequestError } from '../../../src/serve/errors';
import { IDEMPOTENCY_KEY, mcpHandler, RUN_ID_KEY } from '../../../src/serve/mcp';

const CATALOG: ServedWorkflow[] = [
  {
    id: 'gen-v1',
    name: 'Gen',
    description: 'Generates code',
    version: '1.0.0',
    tags: ['code'],
    inputSchema: { type: 'object', required: ['requirements'], properties: { requirements: { type: 'string', minLength: 1 } } },
  },
  { id: 'free-v1', name: 'Free', description: '', tags: [] },
];

/** What a call should become: the runs' course, as states follow() passes through. */
type Script = ServedRun[];

class FakeRuns implements WorkflowRuns {
  starts: { workflow: string; input: Record<string, unknown>; requestKey: string }[] = [];
  scripts = new Map<string, Script>();
  followSignals: (AbortSignal | undefined)[] = [];
  async catalog() {
    return CATALOG;
  }
  async start(workflow: string, input: Record<string, unknown>, requestKey: string): Promise<ServedRun> {
    this.starts.push({ workflow, input, requestKey });
    if (input.refuse) throw new RunRequestError('unavailable', `cannot resolve workflow ${workflow}: the registry is down`);
    return { runId: `${workflow}-mcp-${this.starts.length}`, workflow, status: 'running' };
  }
  async get(): Promise<ServedRun | undefined> {
    return undefined;
  }
  async follow(runId: string, onChange?: (run: ServedRun) => void, signal?: AbortSignal): Promise<ServedRun> {
    this.followSignals.push(signal);
    const script = this.scripts.get(runId.replace(/-mcp-\d+$/, '')) ?? [];
    for (const run of script) {
      onChange?.({ ...run, runId });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { ...script[script.length - 1], runId };
  }
  async cancel(): Promise<ServedRun> {
    throw new Error('not used');
  }
  async answer(): Promise<ServedRun> {
    throw new Error('not used');
  }
}

const running = (done: number, steps: string[]): ServedRun => ({ runId: '', workflow: 'gen-v1', status: 'running', progress: { done, running: steps } });
const RESULT = { step_outputs: { plan: { result: 'a plan' }, build: { result: 'code' } }, final_output: 'code' };

describe('serve/mcp: the MCP server of pallet serve', () => {
  let server: Server;
  let url: URL;
  let runs: FakeRuns;

  beforeEach(async () => {
    runs = new FakeRuns();
    // No body parser in front: the transport reads the body itself (server.ts's express parses it first, also covered by serve-mcp.test.ts).
    const handle = mcpHandler(runs, { log: () => {} });
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function connect(): Promise<Client> {
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    return client;
  }

  it('lists one tool per workflow: its id, description and input schema, any object when none is declared', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => [t.name, t.title, t.description]),
      [
        ['gen-v1', 'Gen', 'Generates code'],
        ['free-v1', 'Free', 'Free'],
      ],
    );
    assert.deepEqual(tools[0].inputSchema, CATALOG[0].inputSchema);
    assert.deepEqual(tools[1].inputSchema, { type: 'object', additionalProperties: true });
    assert.deepEqual(tools[0]._meta, { 'pallet/version': '1.0.0', 'pallet/tags': ['code'] });
    await client.close();
  });

  it('a call starts the run, sends progress per finished step, and returns the result as structured content and JSON text', async () => {
    runs.scripts.set('gen-v1', [
      running(0, ['plan']),
      running(0, ['plan']),
      running(1, ['build']),
      running(2, ['test']),
      { ...running(3, []), status: 'completed', result: RESULT },
    ]);
    const client = await connect();
    const progress: Progress[] = [];
    const result = await client.callTool({ name: 'gen-v1', arguments: { requirements: 'a CLI' } }, undefined, { onprogress: (p) => progress.push(p) });
    assert.equal(result.isError, undefined);
    assert.deepEqual(result.structuredContent, RESULT);
    assert.deepEqual(JSON.parse((result.content as { text: string }[])[0].text), RESULT);
    assert.equal((result._meta as Record<string, unknown>)[RUN_ID_KEY], 'gen-v1-mcp-1');
    assert.deepEqual(
      progress.map((p) => [p.progress, p.message]),
      [
        [0, '0 steps done; running: plan'],
        [1, '1 step done; running: build'],
        [2, '2 steps done; running: test'],
        [3, '3 steps done'],
      ],
    );
    assert.equal(runs.starts.length, 1);
    assert.deepEqual(runs.starts[0].input, { requirements: 'a CLI' });
    assert.match(runs.starts[0].requestKey, /^mcp:\d+-[0-9a-f]{12}-[0-9a-f-]{36}$/);
    assert.ok(runs.followSignals[0] instanceof AbortSignal, 'follow is given the request signal');
    await client.close();
  });

  it('the same call twice is two runs, unless the caller gives an idempotency key', async () => {
    runs.scripts.set('free-v1', [{ ...running(1, []), workflow: 'free-v1', status: 'completed', result: 'text' }]);
    const client = await connect();
    const first = await client.callTool({ name: 'free-v1', arguments: { x: 1 } });
    assert.deepEqual(first.structuredContent, { result: 'text' }, 'a result that is not an object is wrapped');
    await client.callTool({ name: 'free-v1', arguments: { x: 1 } });
    await client.callTool({ name: 'free-v1', arguments: { x: 1 }, _meta: { [IDEMPOTENCY_KEY]: 'order-42' } });
    const keys = runs.starts.map((s) => s.requestKey);
    assert.notEqual(keys[0], keys[1]);
    assert.equal(keys[2], 'mcp:order-42');
    const refused = await client.callTool({ name: 'free-v1', arguments: {}, _meta: { [IDEMPOTENCY_KEY]: 7 } });
    assert.equal(refused.isError, true);
    assert.match((refused.content as { text: string }[])[0].text, /must be a non-empty string/);
    await client.close();
  });

  it('arguments that do not fit the input schema are a tool error naming the field; no run starts', async () => {
    const client = await connect();
    const result = await client.callTool({ name: 'gen-v1', arguments: { requirement: 'typo' } });
    assert.equal(result.isError, true);
    assert.equal((result.content as { text: string }[])[0].text, "the arguments do not fit gen-v1's input schema: input.requirements is required");
    assert.equal(runs.starts.length, 0);
    await client.close();
  });

  it('a failed run, a cancelled run and a refused start are tool errors with the message', async () => {
    runs.scripts.set('gen-v1', [{ ...running(1, []), status: 'failed', error: 'step "build": agent said no' }]);
    runs.scripts.set('free-v1', [{ ...running(0, []), workflow: 'free-v1', status: 'cancelled', error: 'the run was cancelled' }]);
    const client = await connect();
    const failed = await client.callTool({ name: 'gen-v1', arguments: { requirements: 'x' } });
    assert.equal(failed.isError, true);
    assert.equal((failed.content as { text: string }[])[0].text, 'The run gen-v1-mcp-1 of gen-v1 failed: step "build": agent said no');
    const cancelled = await client.callTool({ name: 'free-v1', arguments: {} });
    assert.match((cancelled.content as { text: string }[])[0].text, /^The run free-v1-mcp-2 of free-v1 was cancelled: the run was cancelled$/);
    const refused = await client.callTool({ name: 'free-v1', arguments: { refuse: true } });
    assert.equal(refused.isError, true);
    assert.match((refused.content as { text: string }[])[0].text, /the registry is down/);
    await client.close();
  });

  it('a run at a wait step returns saying so: the step, its event, the run id, how to approve and how to come back', async () => {
    const waiting = [{ step: 'plan_approval', event: 'plan_ok', since: '2026-01-01T00:00:00Z', timeout_at: null }];
    runs.scripts.set('gen-v1', [running(0, ['plan']), { ...running(1, []), status: 'waiting', waiting }]);
    const client = await connect();
    const result = await client.callTool({ name: 'gen-v1', arguments: { requirements: 'x' }, _meta: { [IDEMPOTENCY_KEY]: 'k1' } });
    assert.notEqual(result.isError, true);
    const text = (result.content as { text: string }[])[0].text;
    assert.match(text, /The run gen-v1-mcp-1 of gen-v1 is waiting for approval at step "plan_approval" \(event "plan_ok"\)/);
    assert.match(text, /npx pallet approve gen-v1-mcp-1 plan_ok/);
    assert.match(text, /_meta \{"pallet\/idempotency-key": "k1"\}/);
    assert.deepEqual(result.structuredContent, { status: 'waiting', run_id: 'gen-v1-mcp-1', waiting });
    await client.close();
  });

  it('a caller that hangs up stops the following (not the run): follow is given a signal that aborts', async () => {
    let aborted!: () => void;
    const abortSeen = new Promise<void>((resolve) => (aborted = resolve));
    runs.follow = async (runId, _onChange, signal) => {
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      aborted();
      return { runId, workflow: 'gen-v1', status: 'running' };
    };
    const client = await connect();
    const controller = new AbortController();
    const call = client.callTool({ name: 'gen-v1', arguments: { requirements: 'x' } }, undefined, { signal: controller.signal });
    while (runs.starts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await assert.rejects(call);
    await client.close();
    await abortSeen;
  });

  it('an unknown tool is a protocol error naming it; GET is refused (no sessions)', async () => {
    const client = await connect();
    await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /no tool "nope"/);
    await client.close();
    const get = await fetch(url, { headers: { accept: 'text/event-stream' } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });
});
