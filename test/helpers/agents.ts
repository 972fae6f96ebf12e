// Programmable Pallet agents on loopback for the tests: real HTTP servers speaking Pallet's
// JSON-RPC, each skill a function the test supplies, every call recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SkillFn = (params: Record<string, unknown>, call: RecordedCall) => unknown | Promise<unknown>;

export interface RecordedCall {
  skill: string;
  params: Record<string, unknown>;
  id: unknown;
  /** The Authorization header the call came with, if any. */
  authorization?: string;
  /** The W3C trace context header the call came with (tracing on), if any. */
  traceparent?: string;
}

export interface TestAgent {
  url: string;
  calls: RecordedCall[];
  callsTo(skill: string): RecordedCall[];
  close(): Promise<void>;
}

/** Thrown by a skill to answer with a JSON-RPC error reply. */
export class SkillError extends Error {}

/** Thrown by a skill to answer with a raw HTTP status and body. */
export class HttpReply extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}

export async function startTestAgent(name: string, skills: Record<string, SkillFn>, opts: { card?: object; port?: number } = {}): Promise<TestAgent> {
  const calls: RecordedCall[] = [];
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/agent-card') {
      return send(
        200,
        opts.card ?? {
          name,
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          skills: Object.keys(skills).map((id) => ({ id, description: id })),
        },
      );
    }
    if (req.method !== 'POST' || req.url !== '/execute') return send(404, { error: 'not found' });
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const rpc = JSON.parse(raw) as { method: string; params: Record<string, unknown>; id: unknown };
      const call: RecordedCall = {
        skill: rpc.method,
        params: rpc.params,
        id: rpc.id,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}),
      };
      calls.push(call);
      const fn = skills[rpc.method];
      if (!fn) return send(404, { jsonrpc: '2.0', error: { code: -32601, message: `unknown skill ${rpc.method}` }, id: rpc.id });
      Promise.resolve()
        .then(() => fn(rpc.params, call))
        .then(
          (result) => send(200, { jsonrpc: '2.0', result, id: rpc.id }),
          (err: Error) => {
            if (err instanceof HttpReply) return send(err.status, err.body);
            send(200, { jsonrpc: '2.0', error: { code: -1, message: err.message }, id: rpc.id });
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    callsTo: (skill) => calls.filter((c) => c.skill === skill),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A promise with its resolve function, to hold an agent call until the test releases it. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
