// `pallet serve`'s MCP server: one tool per served workflow, on the official SDK over Streamable
// HTTP, stateless (a fresh server and transport per request, no sessions), so any instance
// behind a load balancer answers any call: the run lives in Temporal, not here.
//
// server.ts mounts it, after authentication and JSON body parsing:
//   app.all('/mcp', mcpHandler(runs));   // runs: the WorkflowRuns of runs.ts
// (POST carries every request; GET and DELETE are refused with 405: there is no session.)
//
// tools/list: each workflow of runs.catalog(), named by its id, described by its definition,
// `inputSchema` its `metadata.input_schema` (any object when none is declared).
// tools/call: checks the arguments against that schema, starts the run (idempotent by the
// caller's `_meta["pallet/idempotency-key"]`), sends `notifications/progress` as steps finish
// when the caller gave a progressToken, and returns the run's result (structuredContent, and
// the same JSON as text). A failed or cancelled run is a tool error with its failure message;
// a run at a wait step returns saying what it waits for, how to answer, and how to come back.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { inputErrors } from '../dsl/input-schema';
import type { ServedRun, ServedWorkflow, WorkflowRuns } from './contract';
import { RunRequestError } from './errors';

export const MCP_SERVER_NAME = 'pallet';

/** The `_meta` key of a tools/call that makes it idempotent: the same key (and tool) is the same run, started once. */
export const IDEMPOTENCY_KEY = 'pallet/idempotency-key';
/** The `_meta` key of a tool result naming the run (its Temporal workflow id). */
export const RUN_ID_KEY = 'pallet/run-id';

/** What a tool offers when its workflow declares no input: any object (Pallet's workflows read `workflow.input.*` freely). */
const ANY_OBJECT = { type: 'object', additionalProperties: true } as const;

type Handler = (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => Promise<void>;

/** The request handler for `/mcp`, answering from `runs`. */
export function mcpHandler(runs: WorkflowRuns, opts: { version?: string; log?: (line: string) => void } = {}): Handler {
  const log = opts.log ?? ((line: string) => console.error(line));
  return async (req, res) => {
    if (req.method !== 'POST') {
      res
        .writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: ErrorCode.ConnectionClosed, message: 'this MCP server is stateless: POST only' }, id: null }));
      return;
    }
    const server = workflowTools(runs, opts.version ?? '1.0.0');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => server.close()));
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      log(`pallet serve: MCP request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', error: { code: ErrorCode.InternalError, message: 'internal error' }, id: null }));
      }
    }
  };
}

/** An MCP server (not yet connected) whose tools are the workflows of `runs`. */
export function workflowTools(runs: WorkflowRuns, version: string): Server {
  const server = new Server(
    { name: MCP_SERVER_NAME, title: 'Pallet workflows', version },
    {
      capabilities: { tools: {} },
      instructions:
        "Each tool runs a Pallet workflow durably on Temporal and returns its result. A run that waits for a person's approval returns saying so; answer it with `pallet approve`, then call the tool again with the same idempotency key to get the result.",
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await catalog(runs)).map(toolOf) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args = {}, _meta } = request.params;
    const workflow = (await catalog(runs)).find((w) => w.id === name);
    if (!workflow) throw new McpError(ErrorCode.InvalidParams, `no tool "${name}": no workflow of that id is served here`);
    if (workflow.inputSchema) {
      const errors = inputErrors(workflow.inputSchema, args);
      if (errors.length > 0) return toolError(`the arguments do not fit ${name}'s input schema: ${errors.join('; ')}`);
    }
    const given = _meta?.[IDEMPOTENCY_KEY];
    if (given !== undefined && (typeof given !== 'string' || given === '')) return toolError(`_meta["${IDEMPOTENCY_KEY}"] must be a non-empty string`);
    const key = given ?? freshKey(extra.requestId, args);
    const progressToken = _meta?.progressToken;
    try {
      const started = await runs.start(name, args, `mcp:${key}`);
      let progress = -1;
      const onChange = (run: ServedRun) => {
        if (progressToken === undefined || !run.progress || run.progress.done <= progress) return;
        // One notification per finished step (the first, 0, when the run is seen running): progress only grows, as MCP requires.
        progress = run.progress.done;
        const running = run.progress.running.length ? `; running: ${run.progress.running.join(', ')}` : '';
        const message = `${progress} step${progress === 1 ? '' : 's'} done${running}`;
        extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => {});
      };
      // The caller going away stops the following, not the run (the key brings the caller back to it).
      const run = started.status === 'running' ? await runs.follow(started.runId, onChange, extra.signal) : started;
      return resultOf(run, key);
    } catch (err) {
      if (err instanceof RunRequestError) return toolError(err.message);
      throw err;
    }
  });
  return server;
}

async function catalog(runs: WorkflowRuns): Promise<ServedWorkflow[]> {
  try {
    return await runs.catalog();
  } catch (err) {
    throw new McpError(ErrorCode.InternalError, `cannot list the served workflows: ${(err as Error).message}`);
  }
}

function toolOf(workflow: ServedWorkflow): Tool {
  const schema = workflow.inputSchema ?? ANY_OBJECT;
  return {
    name: workflow.id,
    title: workflow.name,
    description: workflow.description || workflow.name,
    // MCP wants an object schema at the top: a declared schema that is not one is offered as it is declared, typed object.
    inputSchema: { ...schema, type: 'object' } as Tool['inputSchema'],
    annotations: { title: workflow.name, readOnlyHint: false, openWorldHint: true },
    _meta: { ...(workflow.version ? { 'pallet/version': workflow.version } : {}), ...(workflow.tags.length ? { 'pallet/tags': workflow.tags } : {}) },
  };
}

/**
 * A key for a call that gave none: the request id and a hash of the arguments (readable in
 * the logs), and a random part. Not the request id and arguments alone: request ids restart at
 * each client's session, so two callers asking the same thing would share one run forever.
 */
function freshKey(requestId: string | number, args: Record<string, unknown>): string {
  const hash = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 12);
  return `${requestId}-${hash}-${randomUUID()}`;
}

function resultOf(run: ServedRun, key: string): CallToolResult {
  const _meta = { [RUN_ID_KEY]: run.runId, [IDEMPOTENCY_KEY]: key };
  switch (run.status) {
    case 'completed': {
      const structured = isObject(run.result) ? run.result : { result: run.result };
      return { content: [{ type: 'text', text: JSON.stringify(run.result) }], structuredContent: structured, _meta };
    }
    case 'waiting': {
      const waits = run.waiting ?? [];
      const steps = waits.map((w) => `step "${w.step}" (event "${w.event}"${w.timeout_at ? `, times out at ${w.timeout_at}` : ''})`).join(', ');
      const how = waits.map((w) => `npx pallet approve ${run.runId} ${w.event}`).join(' or ');
      const text =
        `The run ${run.runId} of ${run.workflow} is waiting for approval at ${steps || 'a wait step'}. ` +
        `Answer it with \`${how || `npx pallet approve ${run.runId} <event>`}\` (add --reject to reject), ` +
        `then call ${run.workflow} again with _meta {"${IDEMPOTENCY_KEY}": ${JSON.stringify(key)}} to get its result.`;
      return { content: [{ type: 'text', text }], structuredContent: { status: 'waiting', run_id: run.runId, waiting: waits }, _meta };
    }
    case 'running':
      // follow() returned early: the caller went away. Nobody reads this answer.
      return { content: [{ type: 'text', text: `The run ${run.runId} is still running.` }], _meta };
    default:
      return {
        ...toolError(`The run ${run.runId} of ${run.workflow} ${run.status === 'cancelled' ? 'was cancelled' : 'failed'}: ${run.error ?? 'no reason given'}`),
        _meta,
      };
  }
}

function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
