// Run data in a real registry (Debian's docker-registry, CNCF distribution 2.8): blobs pushed
// with the upload API and read back by digest, the manifest that keeps each one from garbage
// collection, a missing digest, a registry that is down, and claim-check references through it.
import assert from 'node:assert/strict';
import { RegistryClaimStore, resolveClaims, storeLargeValues, TEXT_MEDIA_TYPE } from '../../../src/claims';
import { isClaimRef } from '../../../src/contract';
import { DATA_ARTIFACT_TYPE, DataStore, dataTag, isRetryable, RegistryClient, RegistryError, sha256, TITLE_ANNOTATION } from '../../../src/registry';
import { freePort, startRegistry, type RunningRegistry } from '../../helpers/registry';

describe('DataStore: run data as blobs in a real registry', function () {
  this.timeout(60_000);
  let reg: RunningRegistry;
  let store: DataStore;

  before(async () => {
    reg = await startRegistry();
    store = new DataStore(new RegistryClient({ registry: reg.host, maxBlobBytes: 64 * 1024 * 1024 }), 'pallet-data');
  });
  after(async () => reg?.stop());

  it('pushes a 20 MB blob with POST + PUT and reads it back by digest, checked', async () => {
    const data = Buffer.alloc(20 * 1024 * 1024, 'q');
    const d = await store.put(data, TEXT_MEDIA_TYPE, { title: 'big.txt' });
    assert.equal(d.digest, sha256(data));
    assert.equal(d.size, data.length);
    const back = await store.get(d.digest, d.size);
    assert.ok(back.equals(data));
    // The raw API has it, and the manifest tagged sha256-<hex> references it.
    const head = await fetch(`http://${reg.host}/v2/pallet-data/blobs/${d.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const { manifest } = await store.client.getManifest(`pallet-data:${dataTag(d.digest)}`);
    assert.equal(manifest.artifactType, DATA_ARTIFACT_TYPE);
    assert.equal(manifest.layers[0].digest, d.digest);
    assert.equal(manifest.layers[0].annotations?.[TITLE_ANNOTATION], 'big.txt');
  });

  it('storing the same bytes again changes nothing (same manifest digest)', async () => {
    const data = Buffer.from('{"same":true}');
    await store.put(data, 'application/json');
    const first = await store.client.resolve(`pallet-data:${dataTag(sha256(data))}`);
    await store.put(data, 'application/json');
    const second = await store.client.resolve(`pallet-data:${dataTag(sha256(data))}`);
    assert.equal(first.digest, second.digest);
  });

  it('a digest that is not there is not_found, naming the registry and repository', async () => {
    const missing = sha256('never stored');
    await assert.rejects(store.get(missing, 12), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.code, 'not_found');
      assert.ok(!isRetryable(err));
      assert.match(err.message, new RegExp(`data ${missing} \\(12 bytes\\) is not in registry ${reg.host}/pallet-data`));
      return true;
    });
  });

  it('a blob larger than the client allows is refused before downloading', async () => {
    const small = new DataStore(new RegistryClient({ registry: reg.host, maxBlobBytes: 1024 }), 'pallet-data');
    const d = await store.put(Buffer.alloc(4096, 'r'), TEXT_MEDIA_TYPE);
    await assert.rejects(small.get(d.digest, d.size), (err: unknown) => err instanceof RegistryError && err.code === 'too_large');
  });

  it('claim-check references through the registry: split, store, resolve', async () => {
    const claims = new RegistryClaimStore(store);
    const value = { meta: { language: 'go' }, blob: 'b'.repeat(3 * 1024 * 1024) };
    const split = await storeLargeValues(value, claims, 256 * 1024);
    const out = split.value as { meta: unknown; blob: unknown };
    assert.deepEqual(out.meta, { language: 'go' });
    assert.ok(isClaimRef(out.blob));
    assert.deepEqual(await resolveClaims(split.value, claims), value);
  });

  it('a registry that is down fails retryably, naming its address', async () => {
    const port = await freePort();
    const down = new RegistryClaimStore(new DataStore(new RegistryClient({ registry: `127.0.0.1:${port}` }), 'pallet-data'));
    await assert.rejects(storeLargeValues({ blob: 'x'.repeat(300 * 1024) }, down, 256 * 1024), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.ok(isRetryable(err));
      assert.match(err.message, new RegExp(`registry 127.0.0.1:${port} is unreachable \\(ECONNREFUSED\\)`));
      return true;
    });
  });
});
