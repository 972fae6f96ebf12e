// Test helpers: JSON-RPC calls over real HTTP to the agents under test.
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import type { AgentCard } from '../../../../examples/agents/types';

export interface RpcReply {
  status: number;
  headers: Headers;
  body: { jsonrpc?: string; result?: unknown; error?: { code: number; message: string }; id?: unknown };
}

let counter = 0;

/** POST /execute with a JSON-RPC request; a fresh id per call unless given. */
export async function rpc(url: string, method: string, params: unknown, opts: { id?: unknown; headers?: Record<string, string> } = {}): Promise<RpcReply> {
  const id = 'id' in opts ? opts.id : `test-${++counter}`;
  const response = await fetch(`${url}/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as RpcReply['body'] };
}

/** Calls a skill that must succeed; returns its result. */
export async function call<T = Record<string, unknown>>(url: string, method: string, params: unknown): Promise<T> {
  const reply = await rpc(url, method, params);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(reply.body.error, undefined, `${method} failed: ${JSON.stringify(reply.body.error)}`);
  return reply.body.result as T;
}

/** Calls a skill that must fail with a JSON-RPC error; returns the error message. */
export async function callFails(url: string, method: string, params: unknown): Promise<string> {
  const reply = await rpc(url, method, params);
  assert.equal(reply.status, 200);
  assert.ok(reply.body.error, `expected an error, got ${JSON.stringify(reply.body.result)}`);
  return reply.body.error.message;
}

export async function getCard(url: string): Promise<AgentCard> {
  const response = await fetch(`${url}/agent-card`);
  assert.equal(response.status, 200);
  return (await response.json()) as AgentCard;
}

const ajv = new Ajv({ allErrors: true, strict: false });

/** Asserts that a result matches the output_schema its agent card declares for the skill. */
export function assertMatchesCard(card: AgentCard, skill: string, result: unknown): void {
  const schema = card.skills.find((s) => s.id === skill)?.output_schema;
  assert.ok(schema, `card ${card.name} lists no skill ${skill}`);
  const validate = ajv.compile(schema);
  assert.ok(validate(result), `${skill} result does not match its card: ${ajv.errorsText(validate.errors)}`);
}

/** Runs `python3 -c ast.parse` on code; undefined when python3 is not installed. */
export async function pythonParses(code: string): Promise<boolean | undefined> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: code });
  if (r.error) return undefined;
  return r.status === 0;
}
