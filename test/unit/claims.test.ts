// Large data by claim check (src/claims.ts): which parts of a result are moved out, that the
// structure around them stays, that resolving gives back exactly the original value (also
// from references written into longer strings by template interpolation), and the previews.
import assert from 'node:assert/strict';
import {
  describeClaims,
  formatBytes,
  hasClaims,
  MemoryClaimStore,
  resolveClaims,
  storeLargeValues,
  TEXT_MEDIA_TYPE,
  JSON_MEDIA_TYPE,
  ClaimTooLargeError,
} from '../../src/claims';
import { isClaimRef, payloadSize } from '../../src/contract';
import { interpolationText } from '../../src/dsl/templates';
import { loadSettings, parseBytes } from '../../src/settings';

const KB = 1024;

describe('claim check: splitting results and joining them again', () => {
  it('moves a large string leaf out and keeps the small ones and the structure', async () => {
    const store = new MemoryClaimStore();
    const big = 'x'.repeat(300 * KB);
    const value = { language: 'python', files: [{ name: 'main.py', code: big }], n: 3 };
    const split = await storeLargeValues(value, store, 256 * KB);
    const out = split.value as { language: string; files: { name: string; code: unknown }[]; n: number };
    assert.equal(out.language, 'python');
    assert.equal(out.files[0].name, 'main.py');
    assert.ok(isClaimRef(out.files[0].code));
    assert.deepEqual(out.files[0].code, { $pallet_ref: split.stored[0].$pallet_ref, size: big.length, media_type: TEXT_MEDIA_TYPE });
    assert.equal(split.stored.length, 1);
    assert.equal(store.blobs.get(split.stored[0].$pallet_ref)?.toString(), big, 'a string is stored as its text');
    assert.equal(split.size, Buffer.byteLength(JSON.stringify(split.value)));
    assert.deepEqual(await resolveClaims(split.value, store), value);
  });

  it('leaves a small value as it is, same object, nothing stored', async () => {
    const store = new MemoryClaimStore();
    const value = { a: 1, b: ['x', null, true], c: { d: 'y'.repeat(1000) } };
    const split = await storeLargeValues(value, store, 256 * KB);
    assert.deepEqual(split.value, value);
    assert.equal(split.stored.length, 0);
    assert.equal(split.size, JSON.stringify(value).length);
    assert.equal(await resolveClaims(value, store), value, 'nothing to resolve: the same object');
  });

  it('shrinks a map of many medium members largest first, until it fits', async () => {
    const store = new MemoryClaimStore();
    const value = { a: 'a'.repeat(200 * KB), b: 'b'.repeat(150 * KB), c: 'c'.repeat(50 * KB), tiny: 'ok' };
    const split = await storeLargeValues(value, store, 256 * KB);
    const out = split.value as Record<string, unknown>;
    assert.ok(isClaimRef(out.a), 'the largest goes first');
    assert.equal(out.b, value.b, '150 + 50 KB fit once a is out');
    assert.equal(out.c, value.c);
    assert.equal(out.tiny, 'ok');
    assert.ok(split.size <= 256 * KB);
    assert.deepEqual(await resolveClaims(split.value, store), value);
  });

  it('moves a list of many small items out whole, as JSON', async () => {
    const store = new MemoryClaimStore();
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ i, name: `row ${i}` }));
    const value = { count: rows.length, rows };
    const split = await storeLargeValues(value, store, 256 * KB);
    const out = split.value as { count: number; rows: unknown };
    assert.equal(out.count, 20_000);
    assert.ok(isClaimRef(out.rows));
    assert.equal((out.rows as { media_type: string }).media_type, JSON_MEDIA_TYPE);
    assert.deepEqual(await resolveClaims(split.value, store), value);
  });

  it('a result that is itself one large value becomes one reference; a large top-level list of small items too', async () => {
    const store = new MemoryClaimStore();
    const text = 'é'.repeat(200 * KB); // 400 KB of UTF-8
    const one = await storeLargeValues(text, store, 256 * KB);
    assert.ok(isClaimRef(one.value));
    assert.equal((one.value as { size: number }).size, 400 * KB);
    assert.equal(await resolveClaims(one.value, store), text);
    const list = Array.from({ length: 50_000 }, (_, i) => i);
    const split = await storeLargeValues(list, store, 64 * KB);
    assert.ok(isClaimRef(split.value));
    assert.deepEqual(await resolveClaims(split.value, store), list);
  });

  it('keeps every result under the payload limit, with the same size Temporal measures', async () => {
    const store = new MemoryClaimStore();
    const value = { parts: Array.from({ length: 30 }, (_, i) => ({ id: i, body: String(i).repeat(100 * KB) })) };
    const split = await storeLargeValues(value, store, 1_900_000);
    assert.ok(payloadSize(split.value) <= 1_900_000);
    assert.equal(split.size, payloadSize(split.value));
    assert.deepEqual(await resolveClaims(split.value, store), value);
  });

  it('stores the same data once (same digest)', async () => {
    const store = new MemoryClaimStore();
    const big = 'z'.repeat(300 * KB);
    const split = await storeLargeValues({ a: big, b: big }, store, 256 * KB);
    const out = split.value as { a: { $pallet_ref: string }; b: { $pallet_ref: string } };
    assert.equal(out.a.$pallet_ref, out.b.$pallet_ref);
    assert.equal(store.blobs.size, 1);
  });

  it('resolves a reference that template interpolation wrote into a longer string, as interpolation would have written the data', async () => {
    const store = new MemoryClaimStore();
    const code = 'print(1)\n'.repeat(40 * KB);
    const data = { rows: Array.from({ length: 30_000 }, (_, i) => i) };
    const split = await storeLargeValues({ code, data }, store, 256 * KB);
    const refs = split.value as { code: unknown; data: unknown };
    const inputs = { prompt: `Review this:\n${interpolationText(refs.code)}\nand ${interpolationText(refs.data)}.`, whole: refs.code };
    assert.ok(hasClaims(inputs));
    assert.deepEqual(await resolveClaims(inputs, store), { prompt: `Review this:\n${code}\nand ${JSON.stringify(data)}.`, whole: code });
  });

  it('refuses to read more than maxBytes', async () => {
    const store = new MemoryClaimStore();
    const split = await storeLargeValues({ a: 'a'.repeat(300 * KB), b: 'b'.repeat(300 * KB) }, store, 256 * KB);
    await assert.rejects(resolveClaims(split.value, store, { maxBytes: 400 * KB }), ClaimTooLargeError);
  });

  it('isClaimRef takes exactly the reference shape', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.ok(isClaimRef({ $pallet_ref: digest, size: 3, media_type: 'application/json' }));
    assert.ok(!isClaimRef({ $pallet_ref: digest, size: 3, media_type: 'application/json', extra: 1 }));
    assert.ok(!isClaimRef({ $pallet_ref: 'sha256:abc', size: 3, media_type: 'application/json' }));
    assert.ok(!isClaimRef({ $pallet_ref: digest, size: -1, media_type: 'application/json' }));
    assert.ok(!isClaimRef([digest]));
    assert.ok(!isClaimRef(null));
  });

  it('previews references as <size at digest>', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    assert.deepEqual(describeClaims({ meta: 1, blob: { $pallet_ref: digest, size: 52_428_800, media_type: TEXT_MEDIA_TYPE } }), {
      meta: 1,
      blob: '<52.4 MB at sha256:0123456789ab…>',
    });
    assert.equal(formatBytes(900), '900 B');
    assert.equal(formatBytes(262_144), '262 KB');
    assert.equal(formatBytes(5_000_000_000), '5.0 GB');
  });

  it('settings: sizes with K, M, G; off turns the claim check off', () => {
    assert.equal(parseBytes('X', '256K', 0), 256 * KB);
    assert.equal(parseBytes('X', '64 MiB', 0), 64 * KB * KB);
    assert.equal(parseBytes('X', '', 7), 7);
    assert.throws(() => parseBytes('X', '12 parsecs', 0), /X must be a size in bytes/);
    const defaults = loadSettings({}).claims;
    assert.deepEqual(defaults, { checkBytes: 256 * KB, maxBytes: 256 * KB * KB, repository: 'pallet-data' });
    const set = loadSettings({ PALLET_CLAIM_CHECK_BYTES: 'off', PALLET_MAX_REPLY_BYTES: '1G', PALLET_DATA_REPOSITORY: 'runs/data' }).claims;
    assert.deepEqual(set, { checkBytes: undefined, maxBytes: KB ** 3, repository: 'runs/data' });
    assert.throws(() => loadSettings({ PALLET_DATA_REPOSITORY: 'Bad Name' }), /PALLET_DATA_REPOSITORY/);
    assert.throws(() => loadSettings({ PALLET_CLAIM_CHECK_BYTES: '10' }), /at least 1024/);
  });
});
