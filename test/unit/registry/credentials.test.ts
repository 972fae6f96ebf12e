import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentialsFor, createRegistry, registryFromEnv } from '../../../src/registry';
import { parseChallenge } from '../../../src/registry/auth';

describe('registry credentials and settings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pallet-docker-config-'));
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'reg.example:5000': { auth: b64('alice:pa:ss') },
          'https://ghcr.io/v1/': { auth: b64('bob:tok') },
          'idp.example': { auth: b64('<token>:'), identitytoken: 'refresh' },
        },
        credsStore: 'desktop',
      }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prefers PALLET_REGISTRY_USERNAME/PASSWORD, then PALLET_REGISTRY_TOKEN', () => {
    const base = { DOCKER_CONFIG: dir };
    assert.deepEqual(
      credentialsFor('reg.example:5000', { ...base, PALLET_REGISTRY_USERNAME: 'u', PALLET_REGISTRY_PASSWORD: 'p', PALLET_REGISTRY_TOKEN: 't' }),
      { username: 'u', password: 'p' },
    );
    assert.deepEqual(credentialsFor('reg.example:5000', { ...base, PALLET_REGISTRY_TOKEN: 't' }), { token: 't' });
  });

  it('falls back to the Docker config (auth, identitytoken, keys with scheme and path)', () => {
    const env = { DOCKER_CONFIG: dir };
    assert.deepEqual(credentialsFor('reg.example:5000', env), { username: 'alice', password: 'pa:ss' });
    assert.deepEqual(credentialsFor('ghcr.io', env), { username: 'bob', password: 'tok' });
    assert.deepEqual(credentialsFor('idp.example', env), { token: 'refresh' });
    assert.equal(credentialsFor('elsewhere.io', env), undefined);
    assert.equal(credentialsFor('reg.example:5000', { DOCKER_CONFIG: path.join(dir, 'missing') }), undefined);
  });

  it('registryFromEnv reads PALLET_REGISTRY and PALLET_REGISTRY_PLAIN_HTTP', () => {
    const none = { HOME: dir };
    assert.deepEqual(registryFromEnv(none), { registry: 'localhost:5000', plainHttp: false });
    assert.deepEqual(registryFromEnv({ ...none, PALLET_REGISTRY: 'reg.lan:5000', PALLET_REGISTRY_PLAIN_HTTP: 'true' }), {
      registry: 'reg.lan:5000',
      plainHttp: true,
    });
    assert.deepEqual(registryFromEnv({ ...none, PALLET_REGISTRY: 'http://reg.lan:5000/' }), { registry: 'reg.lan:5000', plainHttp: true });
    assert.deepEqual(registryFromEnv({ DOCKER_CONFIG: dir, PALLET_REGISTRY: 'reg.example:5000' }).credentials, { username: 'alice', password: 'pa:ss' });
    assert.equal(createRegistry({ ...none, PALLET_REGISTRY: 'reg.lan:5000', PALLET_REGISTRY_PLAIN_HTTP: '1' }).client.baseUrl, 'http://reg.lan:5000');
    assert.equal(createRegistry({ ...none, PALLET_REGISTRY: 'ghcr.io' }).client.baseUrl, 'https://ghcr.io');
  });

  it('parses WWW-Authenticate challenges with quoted commas', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(null), undefined);
  });
});
