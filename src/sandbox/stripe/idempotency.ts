/**
 * Stripe's Idempotency-Key semantics, per API key: the first response of a POST is saved for
 * 24 hours; the same key with the same endpoint and parameters replays it; with anything else
 * it is an idempotency_error; while the first request is still running, a second one gets 409.
 * Requests refused before they ran (validation errors, rate limits, faults injected 'before')
 * save nothing, so retrying them with the same key runs them.
 */
export interface SavedResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  requestId: string;
}

interface Entry {
  fingerprint: string;
  savedAt: number;
  response: SavedResponse | undefined;
}

type IdempotencyCheck = { kind: 'new' } | { kind: 'replay'; response: SavedResponse } | { kind: 'mismatch' } | { kind: 'in_use' };

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Params compared key order-independently, like Stripe. */
export function fingerprint(method: string, path: string, params: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(canonical);
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  };
  return `${method} ${path} ${JSON.stringify(canonical(params))}`;
}

export class IdempotencyStore {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
  ) {}

  #slot(apiKey: string, key: string): string {
    return `${apiKey}\u0000${key}`;
  }

  /** Looks the key up and, when it is new, marks the request as running. */
  begin(apiKey: string, key: string, requestFingerprint: string): IdempotencyCheck {
    const slot = this.#slot(apiKey, key);
    const entry = this.#entries.get(slot);
    if (entry && this.now() - entry.savedAt < this.ttlMs) {
      if (entry.fingerprint !== requestFingerprint) return { kind: 'mismatch' };
      if (!entry.response) return { kind: 'in_use' };
      return { kind: 'replay', response: entry.response };
    }
    this.#entries.set(slot, { fingerprint: requestFingerprint, savedAt: this.now(), response: undefined });
    return { kind: 'new' };
  }

  save(apiKey: string, key: string, response: SavedResponse): void {
    const entry = this.#entries.get(this.#slot(apiKey, key));
    if (entry) {
      entry.response = response;
      entry.savedAt = this.now();
    }
  }

  /** The request did not run (or was refused): forget the key so a retry runs it. */
  forget(apiKey: string, key: string): void {
    this.#entries.delete(this.#slot(apiKey, key));
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
