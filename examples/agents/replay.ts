// Idempotent replay of JSON-RPC calls. The worker sends a stable id (and Idempotency-Key)
// per workflow step, so a retry after a timeout or a lost connection gets the answer of the
// first attempt instead of redoing the work (an LLM call may cost money and give another
// answer). A duplicate that arrives while the first call is still running joins it.

interface Entry {
  fingerprint: string;
  expires: number;
  reply: Promise<unknown>;
}

export interface ReplayOptions {
  maxEntries?: number;
  ttlMs?: number;
}

export class ReplayCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor({ maxEntries = 1000, ttlMs = 60 * 60 * 1000 }: ReplayOptions = {}) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  /**
   * Runs `work` once per key. A later call with the same key and the same fingerprint
   * (method + params) gets the stored result with `replayed: true`; a different fingerprint
   * means the caller reused an id for another call, so the work runs afresh. Failures are
   * not kept: a retry of a failed call does the work again.
   */
  async run<T>(key: string | undefined, fingerprint: string, work: () => Promise<T>): Promise<{ value: T; replayed: boolean }> {
    if (key === undefined) return { value: await work(), replayed: false };
    const now = Date.now();
    const found = this.entries.get(key);
    if (found && found.fingerprint === fingerprint && found.expires > now) {
      return { value: (await found.reply) as T, replayed: true };
    }
    const reply = work();
    const entry: Entry = { fingerprint, expires: now + this.ttlMs, reply };
    this.entries.delete(key); // re-insert so Map order stays oldest-first
    this.entries.set(key, entry);
    this.evict(now);
    reply.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return { value: await reply, replayed: false };
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.expires > now) break;
      this.entries.delete(key);
    }
  }
}

/** The cache key of a call: the Idempotency-Key header, else the JSON-RPC id; none for notifications. */
export function replayKey(header: string | string[] | undefined, id: unknown): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h) return `key:${h}`;
  if (typeof id === 'string' || typeof id === 'number') return `id:${JSON.stringify(id)}`;
  return undefined;
}
