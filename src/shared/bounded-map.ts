/**
 * A map that forgets: entries older than `ttlMs` read as absent, and past `maxEntries` the
 * oldest is dropped. Memory for "already done" answers (whole developers, seen events) that must
 * stay small however long the process runs.
 */
interface BoundedMapOptions {
  /** Entries older than this read as absent; Infinity keeps them until evicted by size. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export class BoundedMap<K, V> {
  readonly #entries = new Map<K, { value: V; at: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: BoundedMapOptions) {
    if (!(options.maxEntries >= 1)) throw new RangeError('BoundedMap needs maxEntries >= 1');
    this.#ttlMs = options.ttlMs;
    this.#max = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets the value and makes it the newest entry. */
  set(key: K, value: V): this {
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: this.#now() });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
