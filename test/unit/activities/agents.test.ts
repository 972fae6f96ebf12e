// The callAgent activity in Temporal's MockActivityEnvironment, against a real HTTP agent on
// loopback whose replies each test scripts: replies over the byte cap (announced by
// Content-Length or streamed without it) are stopped early, replies must carry the call's
// JSON-RPC id, and every failure has the right type, retryability and message.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createCallAgent, MAX_REPLY_BYTES } from '../../../src/activities/call-agent';
import type { AgentRetry, CallAgentReply } from '../../../src/activities/contract';
import { FailureTypes } from '../../../src/contract';
import { MAX_PAYLOAD_BYTES } from '../../../src/dsl/types';
import { AgentDirectory, UrlAgentSource } from '../../../src/sources/agents';
import { freePort } from '../../helpers/net';

interface Received {
  body: { jsonrpc: string; method: string; params: unknown; id: unknown };
  headers: http.IncomingHttpHeaders;
}

/** Answers one call: the request as parsed, the response to write. */
type Reply = (call: Received, res: http.ServerResponse, req: http.IncomingMessage) => void;

const WORKFLOW = { workflowId: 'wf-agents-test', runId: 'run-1' };
const CALL_ID = `${WORKFLOW.workflowId}/${WORKFLOW.runId}/the_step`;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Sends `{"jsonrpc":"2.0","id":...,"result":"xxx...` forever (until the client goes away), counting what it wrote. */
function endless(call: Received, res: http.ServerResponse, sent: { bytes: number; closed: Promise<void> }, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(call.body.id)},"result":"`);
  const pump = () => {
    while (!res.destroyed) {
      sent.bytes += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
  };
  pump();
}

function stream(): { bytes: number; closed: Promise<void>; close(): void } {
  let close!: () => void;
  const closed = new Promise<void>((resolve) => (close = resolve));
  return { bytes: 0, closed, close };
}

describe('callAgent activity: bounded replies and JSON-RPC ids (MockActivityEnvironment, real HTTP)', function () {
  this.timeout(30_000);
  let server: http.Server;
  let url: string;
  let reply: Reply;
  let calls: Received[];
  let directory: AgentDirectory;
  const logger = new DefaultLogger('ERROR');

  before(async () => {
    server = http.createServer((req, res) => {
      res.on('error', () => undefined);
      req.socket.on('error', () => undefined);
      if (req.method === 'GET' && req.url === '/agent-card') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ name: 'scripted-agent', skills: [{ id: 'work', input_schema: { type: 'object' } }] }));
      }
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const call = { body: JSON.parse(Buffer.concat(parts).toString()) as Received['body'], headers: req.headers };
        calls.push(call);
        reply(call, res, req);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    directory = new AgentDirectory([new UrlAgentSource([url])], 60_000);
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  beforeEach(() => {
    calls = [];
  });

  const json =
    (body: unknown, status = 200) =>
    (_call: Received, res: http.ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

  function run(
    opts: { maxResultBytes?: number; maxReplyBytes?: number; attempt?: number; retry?: AgentRetry } = {},
    env?: MockActivityEnvironment,
  ): Promise<CallAgentReply> {
    const callAgent = createCallAgent({ directory, maxResultBytes: opts.maxResultBytes, maxReplyBytes: opts.maxReplyBytes });
    const activityEnv = env ?? new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: opts.attempt ?? 1 }, { logger });
    return activityEnv.run(callAgent, { stepId: 'the_step', skill: 'work', inputs: { n: 1 }, ...(opts.retry ? { retry: opts.retry } : {}) });
  }

  /** Asserts that `promise` fails with an ApplicationFailure of this type, retryability and message. */
  async function failsWith(promise: Promise<unknown>, type: string, nonRetryable: boolean, message: RegExp): Promise<ApplicationFailure> {
    let failure: ApplicationFailure | undefined;
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
      assert.equal(err.type, type, err.message);
      assert.equal(err.nonRetryable, nonRetryable, `nonRetryable of: ${err.message}`);
      assert.match(err.message, message);
      failure = err;
      return true;
    });
    return failure!;
  }

  it('happy path: sends the call id as JSON-RPC id and Idempotency-Key, returns the result of a reply carrying that id', async () => {
    reply = (call, res) => json({ jsonrpc: '2.0', result: { got: call.body.params }, id: call.body.id })(call, res);
    const result = await run();
    assert.deepEqual(result, { result: { got: { n: 1 } }, agent: url });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].body.id, CALL_ID);
    assert.equal(calls[0].body.method, 'work');
    assert.equal(calls[0].headers['idempotency-key'], CALL_ID);
  });

  it('a retry sends the same id and Idempotency-Key as the first attempt (agents recognise the repeat)', async () => {
    reply = (call, res) => json({ jsonrpc: '2.0', result: 'again', id: call.body.id })(call, res);
    assert.deepEqual(await run({ attempt: 2 }), { result: 'again', agent: url });
    assert.equal(calls[0].body.id, CALL_ID);
    assert.equal(calls[0].headers['idempotency-key'], CALL_ID);
  });

  it('a reply just under the cap is read whole', async () => {
    const text = 'y'.repeat(50_000);
    reply = (call, res) => json({ jsonrpc: '2.0', result: text, id: call.body.id })(call, res);
    assert.equal((await run({ maxReplyBytes: 50_100 })).result, text);
  });

  it('oversize with Content-Length: refused from the headers, before any of the body is read', async () => {
    const sent = stream();
    reply = (_call, res, req) => {
      // Announce 100 MB and send nothing: reading the body would hang this test.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100_000_000) });
      res.flushHeaders();
      req.socket.once('close', sent.close);
    };
    const started = Date.now();
    await failsWith(
      run(),
      FailureTypes.resultTooLarge,
      true,
      new RegExp(
        `^agent scripted-agent \\(${url.replace(/\./g, '\\.')}\\) replied with more than ${MAX_REPLY_BYTES} bytes \\(the limit of a reply; its Content-Length is 100000000\\)`,
      ),
    );
    await sent.closed; // the request was aborted: the connection is gone
    assert.ok(Date.now() - started < 5_000);
  });

  it('oversize chunked, without Content-Length: stops reading at the cap and drops the connection', async () => {
    const sent = stream();
    reply = (call, res, req) => {
      req.socket.once('close', sent.close);
      endless(call, res, sent);
    };
    const failure = await failsWith(
      run(),
      FailureTypes.resultTooLarge,
      true,
      new RegExp(
        `replied with more than ${MAX_REPLY_BYTES} bytes \\(the limit of a reply; stopped reading after \\d+ bytes\\); have the agent return a reference`,
      ),
    );
    await sent.closed;
    // The agent could write only what socket buffers hold beyond the cap, not an endless reply.
    assert.ok(sent.bytes < MAX_REPLY_BYTES + 16 * 1024 * 1024, `the agent wrote ${sent.bytes} bytes before the worker hung up`);
    assert.match(failure.message, /^agent scripted-agent /);
  });

  it('oversize chunked with a small explicit cap', async () => {
    const sent = stream();
    reply = (call, res, req) => {
      req.socket.once('close', sent.close);
      endless(call, res, sent);
    };
    await failsWith(
      run({ maxReplyBytes: 10_000 }),
      FailureTypes.resultTooLarge,
      true,
      /replied with more than 10000 bytes \(the limit of a reply; stopped reading after \d+ bytes\)/,
    );
    await sent.closed;
  });

  it('a reply under the reply cap whose result is over the result limit still fails on the result limit', async () => {
    reply = (call, res) => json({ jsonrpc: '2.0', result: 'z'.repeat(3_000), id: call.body.id })(call, res);
    await failsWith(
      run({ maxResultBytes: 1_000, maxReplyBytes: 10_000 }),
      FailureTypes.resultTooLarge,
      true,
      /returned 3002 bytes for step "the_step", over the 1000-byte limit/,
    );
  });

  it('the default reply cap is MAX_REPLY_BYTES, twice the payload limit, whatever the result limit', async () => {
    assert.equal(MAX_REPLY_BYTES, 2 * MAX_PAYLOAD_BYTES);
    // A lower result limit leaves the reply cap alone: the result limit speaks, with the step id.
    reply = (call, res) => json({ jsonrpc: '2.0', result: 'z'.repeat(200_000), id: call.body.id })(call, res);
    await failsWith(
      run({ maxResultBytes: 100_000 }),
      FailureTypes.resultTooLarge,
      true,
      /returned 200002 bytes for step "the_step", over the 100000-byte limit/,
    );
  });

  it('wrong id: fails at once, naming the sent and the received id', async () => {
    reply = json({ jsonrpc: '2.0', result: 'not yours', id: 'some-other-call' });
    const failure = await failsWith(
      run(),
      FailureTypes.agentBadResponse,
      true,
      new RegExp(`answered with JSON-RPC id "some-other-call" to the call with id "${CALL_ID}": the reply is not for this call$`),
    );
    assert.deepEqual(failure.details, [{ sentId: CALL_ID, receivedId: 'some-other-call' }]);
  });

  it('wrong id of another type (a number, an object): fails at once', async () => {
    reply = json({ jsonrpc: '2.0', result: 'x', id: 1 });
    await failsWith(run(), FailureTypes.agentBadResponse, true, new RegExp(`answered with JSON-RPC id 1 to the call with id "${CALL_ID}"`));
    // A huge id is shortened in the message and the details (they go into the history).
    reply = json({ jsonrpc: '2.0', result: 'x', id: { big: 'q'.repeat(100_000) } });
    const failure = await failsWith(run(), FailureTypes.agentBadResponse, true, /answered with JSON-RPC id \{"big":"q+\.\.\. to the call/);
    assert.ok(failure.message.length < 500);
    assert.ok(String((failure.details?.[0] as { receivedId: unknown }).receivedId).length < 200);
  });

  it('missing id: fails at once, naming the sent id', async () => {
    reply = json({ jsonrpc: '2.0', result: 'anonymous' });
    await failsWith(
      run(),
      FailureTypes.agentBadResponse,
      true,
      new RegExp(`answered with no JSON-RPC id to the call with id "${CALL_ID}": the reply is not for this call$`),
    );
  });

  it('a result with id null is not for this call; an error reply with id null is (JSON-RPC: the server could not read the id)', async () => {
    reply = json({ jsonrpc: '2.0', result: 'x', id: null });
    await failsWith(run(), FailureTypes.agentBadResponse, true, /answered with JSON-RPC id null to the call/);
    reply = json({ jsonrpc: '2.0', error: { code: -32600, message: 'invalid request' }, id: null });
    await failsWith(run(), FailureTypes.agentSkillError, true, /reported an error: invalid request$/);
  });

  it("an error reply with a wrong id fails on the id, keeping the agent's message", async () => {
    reply = json({ jsonrpc: '2.0', error: { code: -1, message: 'boom' }, id: 'elsewhere' });
    await failsWith(
      run(),
      FailureTypes.agentBadResponse,
      true,
      /JSON-RPC id "elsewhere" to the call with id ".*": the reply is not for this call \(its error: boom\)/,
    );
  });

  it('an error reply with the right id is the skill failing', async () => {
    reply = (call, res) => json({ jsonrpc: '2.0', error: { code: -1, message: 'the model refused' }, id: call.body.id })(call, res);
    const failure = await failsWith(run(), FailureTypes.agentSkillError, true, /^agent scripted-agent \(.*\) reported an error: the model refused$/);
    assert.deepEqual(failure.details, [{ code: -1 }]);
  });

  it('an agent that resets the connection mid-reply: a transport failure, retried', async () => {
    reply = (call, res, req) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(call.body.id)},"result":"partial`);
      setTimeout(() => req.socket.resetAndDestroy(), 50);
    };
    await failsWith(run(), FailureTypes.agentUnavailable, false, /^agent scripted-agent \(.*\) broke off its reply after \d+ bytes \(ECONNRESET\)$/);
  });

  it('an agent that closes the connection before its announced length: a transport failure, retried', async () => {
    reply = (_call, res, req) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"jsonrpc":"2.0","result":"sho');
      setTimeout(() => req.socket.destroy(), 50);
    };
    await failsWith(run(), FailureTypes.agentUnavailable, false, /broke off its reply after 30 bytes \((other side closed|ECONNRESET)\)$/);
  });

  it('invalid JSON: fails at once with the start of the body', async () => {
    reply = json('<html>oops</html>');
    await failsWith(run(), FailureTypes.agentBadResponse, true, /returned a reply that is not JSON: <html>oops<\/html>$/);
    reply = json('');
    await failsWith(run(), FailureTypes.agentBadResponse, true, /returned a reply that is not JSON: \(empty body\)$/);
    reply = json('[1, 2]');
    await failsWith(run(), FailureTypes.agentBadResponse, true, /not a JSON-RPC object: \[1, 2\]$/);
  });

  it('an HTTP 5xx with a huge body: retried, its message from the start of the body, the rest not read', async () => {
    const sent = stream();
    reply = (call, res, req) => {
      req.socket.once('close', sent.close);
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('overloaded, try later ');
      const pump = () => {
        while (!res.destroyed) {
          sent.bytes += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
      };
      pump();
    };
    const failure = await failsWith(
      run(),
      FailureTypes.agentServerError,
      false,
      /answered HTTP 503: overloaded, try later x+\.\.\. \(the agent's failure 1 of 3\)$/,
    );
    assert.ok(failure.message.length < 500);
    await sent.closed;
    assert.ok(sent.bytes < 32 * 1024 * 1024, `the agent wrote ${sent.bytes} bytes`);
  });

  it("the agent's own failures are counted across attempts in the heartbeat details: the third ends the step", async () => {
    reply = json({ detail: 'down for maintenance' }, 500);
    for (const [before, nonRetryable] of [
      [0, false],
      [1, false],
      [2, true],
    ] as const) {
      const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: before + 1, heartbeatDetails: { agentFailures: before } }, { logger });
      const beats: unknown[] = [];
      env.on('heartbeat', (d: unknown) => beats.push(d));
      await failsWith(
        run({}, env),
        FailureTypes.agentServerError,
        nonRetryable,
        new RegExp(`answered HTTP 500.*\\(the agent's failure ${before + 1} of 3\\)$`),
      );
      assert.equal((beats.at(-1) as { agentFailures: number }).agentFailures, before + 1, 'the count goes on to the next attempt');
    }
  });

  it("a step's retry settings: its number of attempts, failure types retried or final", async () => {
    reply = json({ detail: 'down for maintenance' }, 500);
    const once = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 1 }, { logger });
    await failsWith(run({ retry: { maxFailures: 1 } }, once), FailureTypes.agentServerError, true, /\(the agent's failure 1 of 1\)$/);
    const five = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 4, heartbeatDetails: { agentFailures: 3 } }, { logger });
    await failsWith(run({ retry: { maxFailures: 5 } }, five), FailureTypes.agentServerError, false, /\(the agent's failure 4 of 5\)$/);
    await failsWith(run({ retry: { noRetry: [FailureTypes.agentServerError] } }), FailureTypes.agentServerError, true, /answered HTTP 500/);

    // A JSON-RPC error is final by default; retry_on makes it count as the agent's failure.
    reply = (call, res) => json({ jsonrpc: '2.0', error: { code: -1, message: 'model overloaded' }, id: call.body.id })(call, res);
    await failsWith(run(), FailureTypes.agentSkillError, true, /reported an error: model overloaded$/);
    await failsWith(
      run({ retry: { retryOn: [FailureTypes.agentSkillError] } }),
      FailureTypes.agentSkillError,
      false,
      /model overloaded \(the agent's failure 1 of 3\)$/,
    );
  });

  it('non_retryable AgentUnavailable: an agent that cannot be reached ends the step at once', async () => {
    const reachable = directory;
    const port = await freePort();
    directory = new AgentDirectory(
      [{ describe: () => 'gone', load: async () => ({ agents: [], problems: [`http://127.0.0.1:${port}: unreachable`] }) }],
      60_000,
    );
    try {
      await failsWith(run({ retry: { noRetry: [FailureTypes.agentUnavailable] } }), FailureTypes.agentUnavailable, true, /work/);
    } finally {
      directory = reachable;
    }
  });

  it('an unreachable agent is not counted against it: retried until the step deadline', async () => {
    const reachable = directory;
    const port = await freePort();
    directory = new AgentDirectory(
      [
        {
          describe: () => 'gone',
          load: async () => ({
            agents: [{ url: `http://127.0.0.1:${port}`, card: { name: 'gone-agent', skills: [{ id: 'work' }] }, origin: 'test' }],
            problems: [],
          }),
        },
      ],
      60_000,
    );
    try {
      const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW, attempt: 7, heartbeatDetails: { agentFailures: 2 } }, { logger });
      await failsWith(run({}, env), FailureTypes.agentUnavailable, false, /unreachable \(ECONNREFUSED\)$/);
    } finally {
      directory = reachable;
    }
  });

  it('a redirect is refused: step data goes only to the agent URL that was checked', async () => {
    let followed = 0;
    const elsewhere = http.createServer((_req, res) => {
      followed++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/execute`;
    try {
      reply = (_call, res) => {
        res.writeHead(307, { location: target });
        res.end();
      };
      await failsWith(
        run(),
        FailureTypes.agentRejected,
        true,
        new RegExp(`answered with a redirect \\(HTTP 307 to ${target.replace(/[.]/g, '\\.')}\\); agents are called only at their card's URL$`),
      );
      assert.equal(followed, 0);
    } finally {
      elsewhere.close();
    }
  });

  it('HTTP 404 and 4xx keep their classification and message', async () => {
    reply = json({ detail: 'no such skill here' }, 404);
    await failsWith(run(), FailureTypes.unknownSkill, true, /does not offer skill "work" \(HTTP 404: no such skill here\)$/);
    reply = json({ error: { message: 'bad params' } }, 422);
    await failsWith(run(), FailureTypes.agentRejected, true, /rejected the call with HTTP 422: bad params$/);
  });

  it('an unreachable agent is retried', async () => {
    const found = await directory.find('work');
    const nobody = `http://127.0.0.1:${await freePort()}`;
    // The card is known, but the call goes to a port nobody listens on.
    const unreachable = createCallAgent({
      directory: { find: async () => ({ ...found, url: nobody }), invalidate: () => undefined } as unknown as AgentDirectory,
    });
    const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW }, { logger });
    await failsWith(
      env.run(unreachable, { stepId: 'the_step', skill: 'work', inputs: {} }),
      FailureTypes.agentUnavailable,
      false,
      /\) is unreachable \(ECONNREFUSED\)$/,
    );
  });

  it('cancelling the activity mid-reply stops the read and fails as cancelled', async () => {
    const sent = stream();
    reply = (call, res, req) => {
      req.socket.once('close', sent.close);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(call.body.id)},"result":"slow`);
      // ...and nothing more until the worker gives up.
    };
    const env = new MockActivityEnvironment({ workflowExecution: WORKFLOW }, { logger });
    const running = run({}, env);
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    env.cancel();
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
    await sent.closed;
  });
});
