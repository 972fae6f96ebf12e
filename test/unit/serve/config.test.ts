// pallet serve's configuration and token check: loopback without tokens only, globs, 401s.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { isLoopback, isServed, loadServeConfig } from '../../../src/serve/config';
import { requireToken } from '../../../src/serve/server';
import { servedRunId } from '../../../src/serve/runs';

describe('pallet serve configuration', () => {
  it('listens on loopback without tokens, and refuses any other address without them', () => {
    assert.deepEqual(loadServeConfig({}), { host: '127.0.0.1', port: 8010, tokens: [], workflows: [], catalogTtlMs: 30_000 });
    for (const host of ['localhost', '127.0.0.2', '::1', '[::1]']) assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) assert.equal(isLoopback(host), false, host);
    assert.throws(() => loadServeConfig({}, { host: '0.0.0.0' }), /refuses to listen on 0\.0\.0\.0 without authentication: set PALLET_SERVE_TOKENS/);
    const open = loadServeConfig(
      { PALLET_SERVE_TOKENS: ' a, b ,', PALLET_SERVE_HOST: '0.0.0.0', PALLET_SERVE_URL: 'https://pallet.example.com/' },
      { port: '9000' },
    );
    assert.deepEqual([open.host, open.port, open.tokens, open.publicUrl], ['0.0.0.0', 9000, ['a', 'b'], 'https://pallet.example.com']);
    assert.throws(() => loadServeConfig({}, { port: 'http' }), /port must be a number from 0 to 65535, not "http"/);
    assert.throws(() => loadServeConfig({ PALLET_SERVE_URL: 'pallet:80' }), /PALLET_SERVE_URL must be an http\(s\) URL/);
  });

  it('serves the workflows listed or matched by a glob, all when none are given', () => {
    const patterns = loadServeConfig({ PALLET_SERVE_WORKFLOWS: 'code-generation-v1, review-*' }).workflows;
    assert.deepEqual(
      ['code-generation-v1', 'review-gate-v1', 'approval-gate-v1', 'code-generation-v10'].map((id) => isServed(id, patterns)),
      [true, true, false, false],
    );
    assert.equal(isServed('anything', []), true);
  });

  it('gives a request key the same run id every time, by workflow and key', () => {
    const id = servedRunId('code-generation-v1', 'a2a:m1');
    assert.match(id, /^code-generation-v1-a2a-[0-9a-f]{20}$/);
    assert.equal(servedRunId('code-generation-v1', 'a2a:m1'), id);
    assert.notEqual(servedRunId('approval-gate-v1', 'a2a:m1'), id.replace('code-generation', 'approval-gate'));
    assert.match(servedRunId('x', 'no protocol'), /^x-serve-/);
  });
});

describe('pallet serve token check', () => {
  const check = requireToken(['t1', 't2']);
  const call = (headers: Record<string, string>) => {
    let status = 0;
    let body = '';
    let passed = false;
    const res = {
      writeHead: (s: number) => ((status = s), res),
      end: (b: string) => void (body = b),
    } as unknown as http.ServerResponse;
    check({ headers } as never, res, () => (passed = true));
    return { status, passed, error: body ? (JSON.parse(body) as { error: string }).error : undefined };
  };

  it('lets a bearer token or an API key of the list through', () => {
    assert.equal(call({ authorization: 'Bearer t2' }).passed, true);
    assert.equal(call({ authorization: 'bearer  t1 ' }).passed, true);
    assert.equal(call({ 'x-api-key': 't1' }).passed, true);
  });

  it('answers 401 saying why otherwise', () => {
    assert.deepEqual(call({}), {
      status: 401,
      passed: false,
      error: 'unauthorized: this server needs a token: send it as "Authorization: Bearer <token>" or "X-API-Key: <token>" (one of PALLET_SERVE_TOKENS)',
    });
    assert.match(call({ authorization: 'Bearer t3' }).error!, /the token given is not one of PALLET_SERVE_TOKENS/);
    assert.equal(call({ authorization: 'Basic dDE6' }).status, 401);
  });
});
