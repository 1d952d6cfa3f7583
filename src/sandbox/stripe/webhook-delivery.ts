/**
 * Webhook delivery: every event the account records is POSTed, signed, to each enabled endpoint
 * that wants its type, off the request that caused it. Like Stripe: a non-2xx answer, a timeout or
 * a network error is retried with backoff (Stripe retries for up to 3 days in live mode; the
 * emulator's schedule is a knob, short by default so tests and the sandbox converge in seconds),
 * deliveries are not ordered and may be duplicated (by default some are, drawn from a seed, so
 * every sandbox run exercises it; `webhookDisorder: false` delivers in order, once), and
 * disabling or deleting an endpoint stops its pending retries. `pending_webhooks` counts the
 * endpoints that have not yet acknowledged the event.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { seededRandom, type RandomSource } from '../faults/seeded-random.ts';
import type { WireEvent } from './events.ts';
import type { StripeState } from './stripe-state.ts';
import { endpointWants } from './webhook-endpoints.ts';

/** The Stripe emulator's webhook knobs (zod fields to spread into its knobs schema). */
export const webhookKnobFields = {
  /** Webhook retry n waits the n-th delay (ms); Stripe live retries for up to 3 days, the default converges in ~3 s. */
  webhookRetryDelaysMs: z.array(z.number().min(0).max(3 * 24 * 3600 * 1000)).max(50),
  /** A webhook attempt unanswered after this long fails and is retried. */
  webhookTimeoutMs: z.number().min(1).max(600_000),
  /** Probability 0..1 that an event is delivered twice to an endpoint, or 'always'. */
  webhookDuplicates: z.union([z.number().min(0).max(1), z.literal('always')]),
  /** > 0: deliveries are held this long and sent shuffled (Stripe does not order them). */
  webhookReorderWindowMs: z.number().min(0).max(600_000),
  /**
   * Stripe neither orders deliveries nor promises one per event. On (default): the two knobs above
   * apply. Off: every delivery goes out once, in event order, for tests that need strict order.
   */
  webhookDisorder: z.boolean(),
  /** Seed of the duplicate and shuffle draws: a seed replays the same disorder. */
  webhookSeed: z.number().int(),
};

type WebhookKnobs = { [K in keyof typeof webhookKnobFields]: z.infer<(typeof webhookKnobFields)[K]> };

export const DEFAULT_WEBHOOK_KNOBS: WebhookKnobs = {
  webhookRetryDelaysMs: [100, 200, 400, 800, 1600],
  // Stripe documents no exact figure; 10 s is on the strict side of what is reported.
  webhookTimeoutMs: 10_000,
  // Stripe gives no rates: enough that a few events of every run come twice or out of order,
  // without holding a lone event long (a 25 ms window).
  webhookDuplicates: 0.1,
  webhookReorderWindowMs: 25,
  webhookDisorder: true,
  webhookSeed: 1,
};

/** Delivery settings from the knobs (no duplicates and no reordering when disorder is off). */
export function webhookSettingsFrom(knobs: WebhookKnobs): WebhookDeliverySettings {
  return {
    retryDelaysMs: knobs.webhookRetryDelaysMs,
    timeoutMs: knobs.webhookTimeoutMs,
    duplicates: knobs.webhookDisorder ? knobs.webhookDuplicates : 0,
    reorderWindowMs: knobs.webhookDisorder ? knobs.webhookReorderWindowMs : 0,
    seed: knobs.webhookSeed,
  };
}

/** Live delivery knobs (changeable at runtime). */
export interface WebhookDeliverySettings {
  /** Wait before retry n (ms); the number of entries is the number of retries. */
  retryDelaysMs: readonly number[];
  /** An attempt without an answer within this time counts as failed. */
  timeoutMs: number;
  /** Probability 0..1 that a first attempt is also delivered a second time, or 'always'. */
  duplicates: number | 'always';
  /** When > 0, deliveries are held for this long and sent shuffled. */
  reorderWindowMs: number;
  /** Seed for the duplicate and shuffle draws. */
  seed: number;
}

type DeliveryOutcome = 'succeeded' | 'failed' | 'timeout' | 'network_error';

/** One attempt, as the emulator-only delivery log shows it. */
export interface DeliveryRecord {
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  /** 1 for the first attempt, 2 for the first retry... */
  attempt: number;
  /** An extra copy sent by the duplicates knob (never retried). */
  duplicate: boolean;
  /** The receiver's HTTP status; null on timeout or network error. */
  status: number | null;
  outcome: DeliveryOutcome;
  /** Unix seconds (emulator clock) the attempt was sent. */
  at: number;
}

interface Job {
  event: WireEvent;
  endpointId: string;
  attempt: number;
  duplicate: boolean;
}

/** The Stripe-Signature header value for a payload: t=<unix s>,v1=<hex HMAC-SHA256(secret, "t.payload")>. */
function stripeSignatureHeader(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

export class WebhookDelivery {
  readonly log: DeliveryRecord[] = [];
  readonly #state: StripeState;
  readonly #settings: WebhookDeliverySettings;
  readonly #timers = new Set<NodeJS.Timeout>();
  #held: Job[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  #busy = 0;
  #waiters: (() => void)[] = [];
  #stop = new AbortController();
  #rng: RandomSource;
  #rngSeed: number;

  constructor(state: StripeState, settings: WebhookDeliverySettings) {
    this.#state = state;
    this.#settings = settings;
    this.#rngSeed = settings.seed;
    this.#rng = seededRandom(settings.seed);
    state.events.subscribe((event) => this.#onEvent(event));
  }

  /** Deliveries scheduled, held or in flight. */
  get inFlight(): number {
    return this.#busy;
  }

  /** Resolves when nothing is scheduled, held or in flight (retries included). */
  idle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Cancels every pending delivery and retry, aborts those in flight, empties the log. */
  stop(): void {
    this.#stop.abort();
    this.#stop = new AbortController();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#held = [];
    this.#busy = 0;
    this.log.length = 0;
    this.#rng = seededRandom(this.#settings.seed);
    this.#settle();
  }

  #onEvent(event: WireEvent): void {
    for (const endpoint of this.#state.webhookEndpoints.newestFirst().reverse()) {
      if (!endpointWants(endpoint, event.type)) continue;
      event.pending_webhooks += 1;
      this.#enqueue({ event, endpointId: endpoint.id, attempt: 1, duplicate: false });
      if (this.#draw() < this.#duplicateRate()) this.#enqueue({ event, endpointId: endpoint.id, attempt: 1, duplicate: true });
    }
  }

  #duplicateRate(): number {
    const { duplicates } = this.#settings;
    return duplicates === 'always' ? 1 : duplicates;
  }

  #draw(): number {
    if (this.#rngSeed !== this.#settings.seed) {
      this.#rngSeed = this.#settings.seed;
      this.#rng = seededRandom(this.#settings.seed);
    }
    return this.#rng();
  }

  /** Schedules a job (never synchronously: the API request that caused it answers first). */
  #enqueue(job: Job, delayMs = 0): void {
    this.#busy += 1;
    if (this.#settings.reorderWindowMs > 0 && delayMs === 0) {
      this.#held.push(job);
      this.#holdTimer ??= setTimeout(() => this.#releaseHeld(), this.#settings.reorderWindowMs);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#run(job);
    }, delayMs);
    this.#timers.add(timer);
  }

  #releaseHeld(): void {
    this.#holdTimer = undefined;
    const batch = this.#held;
    this.#held = [];
    // Fisher-Yates with the seeded source, so a seed gives the same order.
    for (let i = batch.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.#draw() * (i + 1));
      [batch[i], batch[j]] = [batch[j] as Job, batch[i] as Job];
    }
    for (const job of batch) void this.#run(job);
  }

  async #run(job: Job): Promise<void> {
    const stop = this.#stop.signal;
    try {
      const endpoint = this.#state.webhookEndpoints.get(job.endpointId);
      const secret = this.#state.webhookSecrets.get(job.endpointId);
      // Disabling or deleting an endpoint stops what is still pending for it.
      if (!endpoint || endpoint.status !== 'enabled' || !secret) return;
      const record = await this.#attempt(job, endpoint.url, secret, stop);
      if (stop.aborted) return;
      this.log.push(record);
      if (job.duplicate) return;
      if (record.outcome === 'succeeded') {
        job.event.pending_webhooks = Math.max(0, job.event.pending_webhooks - 1);
        return;
      }
      const delay = this.#settings.retryDelaysMs[job.attempt - 1];
      if (delay !== undefined) this.#enqueue({ ...job, attempt: job.attempt + 1 }, Math.max(1, delay));
    } finally {
      if (!stop.aborted) {
        this.#busy -= 1;
        this.#settle();
      }
    }
  }

  async #attempt(job: Job, url: string, secret: string, stop: AbortSignal): Promise<DeliveryRecord> {
    const payload = JSON.stringify(job.event, null, 2);
    // Stripe signs with the real time (constructEvent checks it against the receiver clock), not account time.
    const at = this.#state.wallNow();
    const base = { eventId: job.event.id, eventType: job.event.type, endpointId: job.endpointId, url, attempt: job.attempt, duplicate: job.duplicate, at };
    const timeout = AbortSignal.timeout(this.#settings.timeoutMs);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': stripeSignatureHeader(payload, secret, at),
        },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, stop]),
      });
      await response.arrayBuffer().catch(() => undefined);
      // Stripe counts only 2xx as delivered; redirects are failures.
      return { ...base, status: response.status, outcome: response.status >= 200 && response.status < 300 ? 'succeeded' : 'failed' };
    } catch {
      return { ...base, status: null, outcome: timeout.aborted ? 'timeout' : 'network_error' };
    }
  }

  #settle(): void {
    if (this.#busy > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
