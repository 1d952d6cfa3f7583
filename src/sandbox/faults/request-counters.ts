/**
 * What an emulator was asked and what it answered, so tests can assert "zero Stripe calls" and
 * benches can report request and 429 counts. Keys are "METHOD /route/:id" (ids folded).
 */
interface CountersSnapshot {
  total: number;
  writes: number;
  /** Requests by "METHOD route", e.g. "POST /v1/customers". */
  requests: Record<string, number>;
  /** Writes (POST/DELETE) by "METHOD route". */
  writesByRoute: Record<string, number>;
  /** Responses by HTTP status ("drop" and "timeout" for connections closed without one). */
  statuses: Record<string, number>;
  /** 429 answers (rate limit, lock_timeout or injected). */
  rateLimited: number;
  /** Injected faults by kind. */
  faults: Record<string, number>;
  /** Idempotent replays answered from the saved response. */
  replays: number;
}

export class RequestCounters {
  #data: CountersSnapshot = RequestCounters.#empty();

  static #empty(): CountersSnapshot {
    return { total: 0, writes: 0, requests: {}, writesByRoute: {}, statuses: {}, rateLimited: 0, faults: {}, replays: 0 };
  }

  get total(): number {
    return this.#data.total;
  }
  get writes(): number {
    return this.#data.writes;
  }
  get rateLimited(): number {
    return this.#data.rateLimited;
  }
  get replays(): number {
    return this.#data.replays;
  }

  /** Requests seen for one "METHOD route" key (0 when never called). */
  count(key: string): number {
    return this.#data.requests[key] ?? 0;
  }

  request(method: string, route: string, isWrite: boolean): void {
    const key = `${method} ${route}`;
    this.#data.total += 1;
    this.#data.requests[key] = (this.#data.requests[key] ?? 0) + 1;
    if (isWrite) {
      this.#data.writes += 1;
      this.#data.writesByRoute[key] = (this.#data.writesByRoute[key] ?? 0) + 1;
    }
  }

  status(status: number | 'drop' | 'timeout'): void {
    const key = String(status);
    this.#data.statuses[key] = (this.#data.statuses[key] ?? 0) + 1;
    if (status === 429) this.#data.rateLimited += 1;
  }

  fault(kind: string): void {
    this.#data.faults[kind] = (this.#data.faults[kind] ?? 0) + 1;
  }

  replay(): void {
    this.#data.replays += 1;
  }

  snapshot(): CountersSnapshot {
    return structuredClone(this.#data);
  }

  reset(): void {
    this.#data = RequestCounters.#empty();
  }
}
