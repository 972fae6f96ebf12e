// Large data by claim check (docs/large-data.md): the parts of an agent's result too big for
// Temporal's history are stored in a ClaimStore (the registry's data repository) and replaced
// by small references (ClaimRef, contract.ts); references are replaced by their data again
// where real data is needed: before an agent is called (the activity) and when a run's result
// is printed or saved (the CLI). The workflow itself never reads the data.
//
// Splitting keeps the result's structure: a string over the threshold is moved out whole; a
// list or map over it has its largest members moved out, largest first, until it fits, and is
// moved out whole only when its members are all small (many of them). So
// `{{ steps.build.outputs.result.language }}` still resolves in the workflow while
// `...result.code` (50 MB) becomes a reference.
import { CLAIM_REF_KEY, isClaimRef, isStateRef, type ClaimRef, type StateSegment } from './contract';
import { interpolationText } from './dsl/interpolation-text';
import { DataStore } from './registry/data';

/** A string's blob: its UTF-8 text. */
export const TEXT_MEDIA_TYPE = 'text/plain; charset=utf-8';
/** Any other value's blob: its JSON. */
export const JSON_MEDIA_TYPE = 'application/json';

/** Values whose JSON is over this many bytes are stored, by default (PALLET_CLAIM_CHECK_BYTES). */
export const DEFAULT_CLAIM_CHECK_BYTES = 256 * 1024;
/** The most bytes of a reply read, and of data stored or read per call, by default (PALLET_MAX_REPLY_BYTES). */
export const DEFAULT_MAX_DATA_BYTES = 256 * 1024 * 1024;

/** Where claimed values are kept: put returns the reference, get the bytes. */
export interface ClaimStore {
  /** Where, for messages: `host/repository`. */
  readonly location: string;
  /** `owner`: the workflow id of the root run the data belongs to, so it can be pruned with that run (docs/large-data.md#retention). */
  put(data: Buffer, mediaType: string, owner?: string): Promise<ClaimRef>;
  get(ref: ClaimRef): Promise<Buffer>;
}

/** The registry's data repository as a ClaimStore. */
export class RegistryClaimStore implements ClaimStore {
  constructor(readonly data: DataStore) {}

  get location(): string {
    return this.data.location;
  }

  async put(bytes: Buffer, mediaType: string, owner?: string): Promise<ClaimRef> {
    const title = `${DataStore.digest(bytes).replace('sha256:', '')}${mediaType === TEXT_MEDIA_TYPE ? '.txt' : '.json'}`;
    const d = await this.data.put(bytes, mediaType, { title, owner });
    return { [CLAIM_REF_KEY]: d.digest, size: d.size, media_type: mediaType } as ClaimRef;
  }

  get(ref: ClaimRef): Promise<Buffer> {
    return this.data.get(ref.$pallet_ref, ref.size, ref.media_type);
  }
}

/** A ClaimStore in memory, for tests. */
export class MemoryClaimStore implements ClaimStore {
  readonly location = 'memory';
  readonly blobs = new Map<string, Buffer>();
  /** Digest → the owners it was stored for. */
  readonly owners = new Map<string, Set<string>>();

  put(bytes: Buffer, mediaType: string, owner?: string): Promise<ClaimRef> {
    const digest = DataStore.digest(bytes);
    this.blobs.set(digest, bytes);
    if (owner) this.owners.set(digest, (this.owners.get(digest) ?? new Set<string>()).add(owner));
    return Promise.resolve({ [CLAIM_REF_KEY]: digest, size: bytes.length, media_type: mediaType } as ClaimRef);
  }

  get(ref: ClaimRef): Promise<Buffer> {
    const data = this.blobs.get(ref.$pallet_ref);
    return data ? Promise.resolve(data) : Promise.reject(new Error(`no data ${ref.$pallet_ref}`));
  }
}

/** A reference's JSON is at most this long (a media type of up to 40 characters): moving smaller values out gains nothing. */
const REF_BYTES = 130;
/** Below this depth a value is measured whole, not walked (JSON from an agent can nest deeply). */
const MAX_WALK_DEPTH = 64;

export interface SplitResult {
  /** The value with its large parts replaced by references. */
  value: unknown;
  /** Bytes of `value` as compact JSON. */
  size: number;
  /** The references made, in order. */
  stored: ClaimRef[];
}

/**
 * Replaces the parts of `value` whose JSON is over `threshold` bytes by references to their
 * data, stored in `store` (see the top of this file for which parts) for `owner` (the root
 * run's workflow id) if given. The result's JSON is at most `threshold` bytes unless `value`
 * itself had to be moved (then it is one reference). Throws what the store throws.
 */
export async function storeLargeValues(value: unknown, store: ClaimStore, threshold: number, owner?: string): Promise<SplitResult> {
  const stored: ClaimRef[] = [];
  const put = async (v: unknown): Promise<Sized> => {
    const ref = await store.put(encode(v), typeof v === 'string' ? TEXT_MEDIA_TYPE : JSON_MEDIA_TYPE, owner);
    stored.push(ref);
    return { value: ref, size: jsonBytes(ref) };
  };
  const split = async (v: unknown, depth: number): Promise<Sized> => {
    if (typeof v === 'string') {
      // Each UTF-16 unit is at least one byte of JSON: a long string is over without measuring.
      if (v.length > threshold) return put(v);
      const size = jsonBytes(v);
      return size > threshold ? put(v) : { value: v, size };
    }
    if (typeof v !== 'object' || v === null || isClaimRef(v) || depth >= MAX_WALK_DEPTH) {
      const size = jsonBytes(v);
      return size > threshold && typeof v === 'object' && v !== null && !isClaimRef(v) ? put(v) : { value: v, size };
    }
    const array = Array.isArray(v);
    const keys = array ? [] : Object.keys(v);
    const members: Sized[] = [];
    if (array) for (const item of v) members.push(await split(item, depth + 1));
    else for (const k of keys) members.push(await split((v as Record<string, unknown>)[k], depth + 1));
    const keyBytes = array ? 0 : keys.reduce((n, k) => n + jsonBytes(k) + 1, 0);
    let size = 2 + Math.max(0, members.length - 1) + keyBytes + members.reduce((n, m) => n + m.size, 0);
    if (size > threshold) {
      // Largest first, until it fits.
      const order = members.map((m, i) => i).sort((a, b) => members[b].size - members[a].size);
      for (const i of order) {
        if (size <= threshold) break;
        const m = members[i];
        if (m.size <= REF_BYTES || isClaimRef(m.value)) continue;
        const moved = await put(m.value);
        size += moved.size - m.size;
        members[i] = moved;
      }
    }
    const rebuilt = array ? members.map((m) => m.value) : Object.fromEntries(keys.map((k, i) => [k, members[i].value]));
    return size > threshold ? put(rebuilt) : { value: rebuilt, size };
  };
  const { value: out, size } = await split(value, 0);
  return { value: out, size, stored };
}

interface Sized {
  value: unknown;
  size: number;
}

function encode(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'), 'utf8');
}

function decode(data: Buffer, ref: ClaimRef): unknown {
  const text = data.toString('utf8');
  if (ref.media_type.split(';')[0].trim() === JSON_MEDIA_TYPE) return JSON.parse(text) as unknown;
  return text;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null');
}

/** A reference as template interpolation writes it into a longer string (compact JSON, our key order). */
const EMBEDDED = /\{"\$pallet_ref":"(sha256:[0-9a-f]{64})","size":(\d+),"media_type":"((?:[^"\\]|\\.)*)"\}/g;
const EMBEDDED_START = '{"$pallet_ref":"sha256:';

/** Whether a value holds a reference anywhere (as a value, or written into a string). */
export function hasClaims(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes(EMBEDDED_START);
  if (typeof value !== 'object' || value === null) return false;
  if (isClaimRef(value)) return true;
  if (depth > 1000) return false;
  const items = Array.isArray(value) ? value : Object.values(value);
  return items.some((v) => hasClaims(v, depth + 1));
}

/** Resolving read more data than allowed. */
export class ClaimTooLargeError extends Error {
  override readonly name = 'ClaimTooLargeError';
}

/** A stored value could not be read back as its media type says (not JSON). */
export class ClaimDataError extends Error {
  override readonly name = 'ClaimDataError';
}

export interface ResolveOptions {
  /** The most bytes read in all (default DEFAULT_MAX_DATA_BYTES). */
  maxBytes?: number;
}

/**
 * `value` with every reference replaced by its data, read from `store`: references as values
 * (anywhere in lists and maps, and inside data that was itself stored), and references that
 * template interpolation wrote into a longer string (replaced by the text interpolation would
 * have written for the data). Each digest is read once. A value without references is returned
 * as it is. Throws what the store throws (RegistryError), ClaimTooLargeError past `maxBytes`,
 * ClaimDataError for data that does not parse.
 */
export async function resolveClaims(value: unknown, store: ClaimStore, opts: ResolveOptions = {}): Promise<unknown> {
  if (!hasClaims(value)) return value;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DATA_BYTES;
  const cache = new Map<string, Promise<unknown>>();
  let read = 0;
  const fetchRef = (ref: ClaimRef, depth: number): Promise<unknown> => {
    let pending = cache.get(ref.$pallet_ref);
    if (!pending) {
      if (depth > 16) return Promise.reject(new ClaimDataError(`data ${ref.$pallet_ref} holds references nested more than 16 deep`));
      read += ref.size;
      if (read > maxBytes)
        return Promise.reject(
          new ClaimTooLargeError(`the referenced data comes to more than ${maxBytes} bytes (${formatBytes(maxBytes)}), the limit (PALLET_MAX_REPLY_BYTES)`),
        );
      pending = store.get(ref).then((data) => {
        let decoded: unknown;
        try {
          decoded = decode(data, ref);
        } catch (err) {
          throw new ClaimDataError(`data ${ref.$pallet_ref} in ${store.location} is not the ${ref.media_type} its reference says (${(err as Error).message})`);
        }
        return walk(decoded, depth + 1);
      });
      cache.set(ref.$pallet_ref, pending);
    }
    return pending;
  };
  const walk = async (v: unknown, depth: number): Promise<unknown> => {
    if (typeof v === 'string') {
      if (!v.includes(EMBEDDED_START)) return v;
      const found = [...v.matchAll(EMBEDDED)];
      const texts = new Map<string, string>();
      for (const m of found) {
        const ref = JSON.parse(m[0]) as unknown;
        if (isClaimRef(ref) && !texts.has(m[0])) texts.set(m[0], interpolationText(await fetchRef(ref, depth)));
      }
      return v.replace(EMBEDDED, (m) => texts.get(m) ?? m);
    }
    if (typeof v !== 'object' || v === null) return v;
    if (isClaimRef(v)) return fetchRef(v, depth);
    // An output a long run kept in a segment of its stored state (workflows/state.ts).
    if (isStateRef(v)) return ((await fetchRef(v.$pallet_state, depth)) as StateSegment).outputs?.[v.step] ?? null;
    if (!hasClaims(v)) return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const item of v) out.push(await walk(item, depth));
      return out;
    }
    const entries: [string, unknown][] = [];
    for (const [k, item] of Object.entries(v)) entries.push([k, await walk(item, depth)]);
    return Object.fromEntries(entries);
  };
  return walk(value, 0);
}

/** `52.4 MB`, `256 KB`, `900 B` (powers of 1000, as people read sizes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let unit = '';
  for (const u of units) {
    n /= 1000;
    unit = u;
    if (n < 1000) break;
  }
  return `${n < 100 ? n.toFixed(1) : Math.round(n)} ${unit}`;
}

/** A reference for people: `<52.4 MB at sha256:0123456789ab…>`. */
export function describeClaim(ref: ClaimRef): string {
  return `<${formatBytes(ref.size)} at ${ref.$pallet_ref.slice(0, 19)}…>`;
}

/** `value` with every reference replaced by its description (describeClaim), for previews. */
export function describeClaims(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 1000) return value;
  if (isClaimRef(value)) return describeClaim(value);
  if (!hasClaims(value)) return value;
  if (Array.isArray(value)) return value.map((v) => describeClaims(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describeClaims(v, depth + 1)]));
}
