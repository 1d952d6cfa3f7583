/**
 * Token bucket for per-second limits (Stripe limits by requests per second with short bursts).
 * The bucket holds at most `ratePerSecond` tokens and refills continuously; `undefined` or 0
 * disables the limit. The rate may change at runtime (benches switch it between runs).
 */
export class TokenBucket {
  #rate: number | undefined;
  #tokens = 0;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number | undefined, now: () => number = Date.now) {
    this.#now = now;
    this.#updatedAt = now();
    this.setRate(ratePerSecond);
  }

  get rate(): number | undefined {
    return this.#rate;
  }

  setRate(ratePerSecond: number | undefined): void {
    if (ratePerSecond !== undefined && (!Number.isFinite(ratePerSecond) || ratePerSecond < 0))
      throw new RangeError(`rate limit must be a non-negative number of requests per second, got ${ratePerSecond}`);
    this.#rate = ratePerSecond === 0 ? undefined : ratePerSecond;
    this.#tokens = this.#capacity();
    this.#updatedAt = this.#now();
  }

  /** Takes one token; false means the caller is over the limit. */
  take(): boolean {
    if (this.#rate === undefined) return true;
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity(), this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #capacity(): number {
    return this.#rate === undefined ? 0 : Math.max(1, this.#rate);
  }
}
