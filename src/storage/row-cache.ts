/**
 * Rows that every gateway call reads and that almost never change (apps, partners), kept
 * in memory for at most `ttlMs` per database. A change made through this process forgets
 * every cached row at once (forgetCachedRows), so the next call sees it; another process
 * sharing the database sees it within `ttlMs`. Fault rules are not cached: a counted rule
 * must fire exactly N times across all processes, from the moment it is added.
 *
 * Cached values are shared between calls: callers must treat them as read-only.
 */
export const ROW_CACHE_TTL_MS = 1000;

let generation = 0;

/** Called by every write to a cached table; cheap, so it does not ask which rows changed. */
export function forgetCachedRows(): void {
  generation++;
}

interface Entry<V> {
  value: V;
  until: number;
  generation: number;
}

export class RowCache<V> {
  /** Per database (Kysely instance), so in-process gateways never see each other's rows. */
  private readonly byDb = new WeakMap<object, Map<string, Entry<V>>>();

  constructor(
    private readonly ttlMs = ROW_CACHE_TTL_MS,
    private readonly maxPerDb = 1000,
  ) {}

  /** The cached value, else `load()`'s; `undefined` (no such row) is never cached. */
  async get(db: object, key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    let rows = this.byDb.get(db);
    if (!rows) this.byDb.set(db, (rows = new Map()));
    const now = performance.now();
    const hit = rows.get(key);
    if (hit && hit.until > now && hit.generation === generation) return hit.value;
    const loadedIn = generation;
    const value = await load();
    // A write during the load may have made what was read stale: use it, do not keep it.
    if (value === undefined || loadedIn !== generation) {
      rows.delete(key);
      return value;
    }
    // Bounded: keys come from requests (valid ids only, but many of them are possible).
    if (rows.size >= this.maxPerDb) rows.clear();
    rows.set(key, { value, until: now + this.ttlMs, generation: loadedIn });
    return value;
  }
}
