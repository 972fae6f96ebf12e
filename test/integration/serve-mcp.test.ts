// `pallet serve`'s MCP server driven by the Python `mcp` client (test/interop/mcp_client.py), on
// the real dev server, a real worker, a real registry holding the workflows and a real agent on
// loopback: tools/list gives one tool per workflow with its input schema; code-generation-v1
// called as a tool returns the run's result, with progress notifications as its steps finish;
// approval-gate-v1 returns at its wait step, is approved with `pallet approve`, and the same
// call again (its idempotency key) returns the result; arguments the schema refuses start nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { RunResult } from '../../src/dsl/types';
import type { Services } from '../../src/services';
import { IDEMPOTENCY_KEY, RUN_ID_KEY } from '../../src/serve/mcp';
import { servedRunId } from '../../src/serve/runs';
import type { ServeServer } from '../../src/serve/server';
import { runCli } from '../helpers/cli';
import { INSTALL_INTEROP, INTEROP_VENV } from '../helpers/interop';
import { ROOT } from '../helpers/temporal';
import { requireTool } from '../helpers/tools';
import { startServeStack, type ServeStack } from '../helpers/serve';
import { uniqueId } from '../helpers/worker';

const TOKEN = 'serve-mcp-test-token';
const REQUIREMENTS = 'Build a CLI that reads a CSV of expenses and prints totals by category';
const PYTHON = path.join(INTEROP_VENV, 'bin', 'python');
const CLIENT = path.join(ROOT, 'test', 'interop', 'mcp_client.py');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs the Python client: lists the tools, and calls one when `call` is given; its JSON output. */
function mcp(url: string, call?: { tool: string; args: Json; meta?: Json }, token: string | undefined = TOKEN): Promise<Json> {
  const argv = [CLIENT, '--url', url, ...(token ? ['--token', token] : [])];
  if (call) argv.push('--call', call.tool, '--arguments', JSON.stringify(call.args), ...(call.meta ? ['--meta', JSON.stringify(call.meta)] : []));
  return new Promise((resolve, reject) =>
    execFile(PYTHON, argv, { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`mcp_client.py failed (${err.message}):\n${stdout}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Json);
    }),
  );
}

const textOf = (call: Json): string => (call.content as Json[]).map((c) => c.text ?? '').join('\n');

describe('pallet serve over MCP, driven by the Python mcp client (real server, worker, registry)', function () {
  this.timeout(300_000);
  let stack: ServeStack;
  let services: Services;
  let server: ServeServer;
  let settingsEnv: Record<string, string>;
  const mcpUrl = () => `${server.url}/mcp`;

  before(async () => {
    requireTool(PYTHON, "the interop fixtures' Python venv (mcp)", INSTALL_INTEROP);
    ({ services, server, settingsEnv } = stack = await startServeStack(
      'serve-mcp',
      {
        // Slow enough that the client sees the run progress step by step.
        create_plan: async (p) => {
          await new Promise((resolve) => setTimeout(resolve, 2500));
          return { steps: ['parse the CSV', 'sum by category'], requirements: p.requirements };
        },
        generate_code: async (p) => {
          await new Promise((resolve) => setTimeout(resolve, 2500));
          return { code: `print(${JSON.stringify(JSON.stringify(p.plan ?? null).length)})`, language: 'python' };
        },
        review_code: (p) => ({ approved: true, lines: String(p.code).split('\n').length }),
      },
      TOKEN,
    ));
  });

  after(async () => {
    await stack?.stop();
  });

  it('lists one tool per stored workflow, named by its id, with its input schema (any object when none is declared)', async () => {
    const { tools } = await mcp(mcpUrl());
    assert.deepEqual(
      (tools as Json[]).map((t) => [t.name, t.title]),
      [
        ['approval-gate-v1', 'Approved Code Generation'],
        ['code-generation-v1', 'Code Generation Pipeline'],
      ],
    );
    const [gate, codegen] = tools as Json[];
    assert.match(gate.description, /^Plan, then wait up to a day for a person to approve the plan/);
    assert.deepEqual(gate.inputSchema.required, ['requirements']);
    assert.equal(gate.inputSchema.properties.requirements.type, 'string');
    assert.deepEqual(codegen.inputSchema, { type: 'object', additionalProperties: true });
    assert.equal(codegen.description, 'Plan → Build → Test pipeline for code generation');
  });

  it('calls code-generation-v1 as a tool: progress notifications per finished step, then the run’s result', async () => {
    const { call, progress } = await mcp(mcpUrl(), { tool: 'code-generation-v1', args: { requirements: REQUIREMENTS } });
    assert.equal(call.isError, false, textOf(call));
    const result = call.structuredContent as RunResult;
    assert.deepEqual(Object.keys(result.step_outputs), ['plan', 'build', 'test']);
    assert.deepEqual(result.step_outputs.plan.outputs, { result: { steps: ['parse the CSV', 'sum by category'], requirements: REQUIREMENTS } });
    assert.deepEqual(JSON.parse(textOf(call)), result, 'the text content is the same result as JSON');
    const runId = call.meta[RUN_ID_KEY] as string;
    assert.match(runId, /^code-generation-v1-mcp-[0-9a-f]{20}$/);
    // The run in Temporal holds the same result: what the tool returned is the run's.
    const fromTemporal = await (await services.temporal()).client.workflow.getHandle(runId).result();
    assert.deepEqual(fromTemporal.step_outputs, result.step_outputs);
    // Progress grew step by step while the run ran (the agent takes 2.5 s per step, the server looks every 1 s: the poll sees each).
    const values = (progress as Json[]).map((p) => p.progress as number);
    assert.ok(values.length >= 2, `progress notifications arrived: ${JSON.stringify(progress)}`);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      'progress only grows',
    );
    assert.ok(new Set(values).size === values.length, 'one notification per step count');
    assert.ok(
      (progress as Json[]).some((p) => /running: (plan|build)/.test(p.message)),
      `a notification names the running step: ${JSON.stringify(progress)}`,
    );
  });

  it('approval-gate-v1 returns at its wait step saying how to approve; approved with pallet approve, the same call again returns the result', async () => {
    const key = uniqueId('approval');
    const call = { tool: 'approval-gate-v1', args: { requirements: REQUIREMENTS }, meta: { [IDEMPOTENCY_KEY]: key } };
    const first = (await mcp(mcpUrl(), call)).call as Json;
    assert.equal(first.isError, false, textOf(first));
    const runId = first.meta[RUN_ID_KEY] as string;
    assert.match(
      textOf(first),
      new RegExp(`The run ${runId} of approval-gate-v1 is waiting for approval at step "plan_approval" \\(event "plan_approval", times out at `),
    );
    assert.match(textOf(first), new RegExp(`npx pallet approve ${runId} plan_approval`));
    assert.equal(first.structuredContent.status, 'waiting');

    const approved = await runCli(['approve', runId, 'plan_approval', '--data', '{"note": "ship it"}', '--by', 'ada'], { env: settingsEnv });
    assert.equal(approved.code, 0, approved.stderr);

    const again = (await mcp(mcpUrl(), call)).call as Json;
    assert.equal(again.isError, false, textOf(again));
    assert.equal(again.meta[RUN_ID_KEY], runId, 'the same key is the same run');
    const result = again.structuredContent as RunResult;
    assert.deepEqual(result.step_outputs.plan_approval.outputs, { outcome: 'approved', data: { note: 'ship it' }, by: 'ada' });
    assert.ok(result.step_outputs.review, 'the approved branch ran to its review');
  });

  it('arguments the input schema refuses are a tool error naming the field, and start no run', async () => {
    const key = uniqueId('refused');
    const { call } = await mcp(mcpUrl(), { tool: 'approval-gate-v1', args: { requirement: 'typo' }, meta: { [IDEMPOTENCY_KEY]: key } });
    assert.equal(call.isError, true);
    assert.equal(textOf(call), "the arguments do not fit approval-gate-v1's input schema: input.requirements is required");
    // The run this key would have started does not exist.
    const { client } = await services.temporal();
    await assert.rejects(client.workflow.getHandle(servedRunId('approval-gate-v1', `mcp:${key}`)).describe(), { name: 'WorkflowNotFoundError' });
  });

  it('refuses a client without the right token (401), before any MCP message is read', async () => {
    await assert.rejects(mcp(mcpUrl(), undefined, 'wrong-token'), /mcp_client\.py failed/);
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    };
    const refused = await fetch(mcpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(initialize),
    });
    assert.equal(refused.status, 401);
    const accepted = await fetch(mcpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': TOKEN },
      body: JSON.stringify(initialize),
    });
    assert.equal(accepted.status, 200);
    assert.match(await accepted.text(), /"serverInfo":\{"name":"pallet"/);
  });
});
