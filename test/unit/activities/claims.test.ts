// The callAgent activity with a claim store (docs/large-data.md), in MockActivityEnvironment
// against a real HTTP agent: a large reply comes back with references in place of its large
// parts, references in inputs reach the agent as data (also written into longer strings), the
// card's input_schema is checked against the data, and a registry that is down fails the step
// retryably, naming the registry, never keeping the value inline.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createCallAgent } from '../../../src/activities/call-agent';
import type { CallAgentReply } from '../../../src/activities/contract';
import { MemoryClaimStore, RegistryClaimStore, TEXT_MEDIA_TYPE, type ClaimStore } from '../../../src/claims';
import { FailureTypes, isClaimRef, payloadSize, type ClaimRef } from '../../../src/contract';
import { interpolationText } from '../../../src/dsl/templates';
import { DataStore, RegistryClient } from '../../../src/registry';
import { AgentDirectory, UrlAgentSource } from '../../../src/sources/agents';
import { freePort } from '../../helpers/net';

const MB = 1024 * 1024;

describe('callAgent activity with a claim store: large results out, references in inputs back in', function () {
  this.timeout(30_000);
  let server: http.Server;
  let directory: AgentDirectory;
  let received: Record<string, unknown>[];
  const logger = new DefaultLogger('ERROR');

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/agent-card') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({
            name: 'data-agent',
            skills: [{ id: 'make' }, { id: 'measure', input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }],
          }),
        );
      }
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const rpc = JSON.parse(Buffer.concat(parts).toString()) as { method: string; params: Record<string, unknown>; id: unknown };
        received.push(rpc.params);
        const result =
          rpc.method === 'make'
            ? { meta: { kind: 'text' }, blob: 'm'.repeat(Number(rpc.params.bytes)) }
            : { length: String(rpc.params.text).length, note: rpc.params.note ?? null };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', result, id: rpc.id }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    directory = new AgentDirectory([new UrlAgentSource([`http://127.0.0.1:${(server.address() as AddressInfo).port}`])], 60_000);
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (received = []));

  function run(claims: ClaimStore | undefined, skill: string, inputs: Record<string, unknown>, more: { maxReplyBytes?: number } = {}): Promise<CallAgentReply> {
    const callAgent = createCallAgent({ directory, claims, ...more });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'wf-claims', runId: 'run-1' } }, { logger });
    return env.run(callAgent, { stepId: 'the_step', skill, inputs });
  }

  it('a 10 MB result comes back small, its large leaf a reference to the stored text', async () => {
    const claims = new MemoryClaimStore();
    const reply = await run(claims, 'make', { bytes: 10 * MB });
    const result = reply.result as { meta: unknown; blob: ClaimRef };
    assert.deepEqual(result.meta, { kind: 'text' });
    assert.ok(isClaimRef(result.blob));
    assert.equal(result.blob.size, 10 * MB);
    assert.equal(result.blob.media_type, TEXT_MEDIA_TYPE);
    assert.ok(payloadSize(reply) < 1000, `the activity's result is small: ${payloadSize(reply)} bytes`);
    assert.equal(claims.blobs.get(result.blob.$pallet_ref)?.length, 10 * MB);
  });

  it('references in inputs reach the agent as data, as values and written into strings; the schema checks the data', async () => {
    const claims = new MemoryClaimStore();
    const made = (await run(claims, 'make', { bytes: 3 * MB })).result as { blob: ClaimRef };
    received = [];
    const reply = await run(claims, 'measure', { text: made.blob, note: `length of ${interpolationText(made.blob)}!` });
    assert.equal(received.length, 1);
    assert.equal(received[0].text, 'm'.repeat(3 * MB));
    assert.equal(received[0].note, `length of ${'m'.repeat(3 * MB)}!`);
    // The agent's answer echoes 3 MB in `note`: stored in turn.
    const result = reply.result as { length: number; note: unknown };
    assert.equal(result.length, 3 * MB);
    assert.ok(isClaimRef(result.note));
  });

  it('without a claim store, the same result fails its step as before', async () => {
    await assert.rejects(
      run(undefined, 'make', { bytes: 10 * MB }),
      (err: unknown) => err instanceof ApplicationFailure && err.type === FailureTypes.resultTooLarge && err.nonRetryable,
    );
  });

  it('a reply over maxReplyBytes is refused, with a claim store too', async () => {
    await assert.rejects(
      run(new MemoryClaimStore(), 'make', { bytes: 3 * MB }, { maxReplyBytes: 2 * MB }),
      (err: unknown) => err instanceof ApplicationFailure && err.type === FailureTypes.resultTooLarge && /more than 2097152 bytes/.test(err.message),
    );
  });

  it('a registry that is down while storing fails the step retryably, naming the registry (after trying a few times)', async () => {
    const port = await freePort();
    const down = new RegistryClaimStore(new DataStore(new RegistryClient({ registry: `127.0.0.1:${port}` }), 'pallet-data'));
    const started = Date.now();
    await assert.rejects(run(down, 'make', { bytes: 1 * MB }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, FailureTypes.registryError);
      assert.equal(err.nonRetryable, false);
      assert.match(
        err.message,
        new RegExp(
          `^storing the large values of step "the_step"'s result in 127.0.0.1:${port}/pallet-data failed: registry 127.0.0.1:${port} is unreachable \\(ECONNREFUSED\\)`,
        ),
      );
      return true;
    });
    assert.ok(Date.now() - started >= 2_900, 'tried again before giving up');
    // A small result needs no registry.
    const small = await run(down, 'make', { bytes: 100 });
    assert.equal((small.result as { blob: string }).blob.length, 100);
  });

  it('a reference whose data is gone fails the step at once, before calling the agent', async () => {
    const claims = new MemoryClaimStore();
    const made = (await run(claims, 'make', { bytes: 1 * MB })).result as { blob: ClaimRef };
    claims.blobs.clear();
    received = [];
    await assert.rejects(
      run(claims, 'measure', { text: made.blob }),
      (err: unknown) => err instanceof ApplicationFailure && /reading the data referenced by step "the_step"'s inputs from memory failed/.test(err.message),
    );
    assert.equal(received.length, 0);
  });
});
