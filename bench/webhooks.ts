/**
 * Benchmark: Stripe webhooks to Kong access. Developers under "checkout" collection start refused
 * (402); each then gets a card inside the Stripe emulator (as Checkout or the customer portal
 * would), which emits payment_method.attached and customer.updated. Measured:
 * - latency of a lone event: from a webhook arriving at the provisioner to Kong's access changing
 *   (the webhook route's own timing), p50 / p95, once with nothing queued and once while a
 *   burst's reads are queued (other developers' events must not make it wait);
 * - throughput: events handled per second while Stripe's test-mode limit (25 requests/s, reads
 *   and writes) is in force, and that none is lost: every developer ends unblocked. In a burst the
 *   latency is mostly the wait for Stripe read budget (the provisioner paces itself under the limit).
 */
import { createMemoryLogger } from '../src/shared/provision-log.ts';
import { attachCardByNumber } from '../src/sandbox/stripe/payment-methods.ts';
import { setDefaultPaymentMethod } from '../src/sandbox/stripe/payment-methods.ts';
import { ACCESS_TAGS } from '../src/provisioner/core/kong-access.ts';
import type { BenchResult, BenchScenario } from './bench-types.ts';
import { postProvision, startBenchSandbox } from './support/bench-sandbox.ts';
import { mapPool } from './support/pool.ts';
import { round, summarize } from './support/stats.ts';

const STRIPE_LIMIT = 25;
/** Developers measured one at a time before the burst. */
const QUIET = 20;
/** Developers measured one at a time while the burst is queued. */
const DURING_BURST = 20;
/**
 * The first of them comes this long after the burst's cards: Stripe's event times are whole
 * seconds, so only an event of a later second than the burst's is known to be newer than it.
 */
const DURING_BURST_AFTER_MS = 1_000;
/** Spacing of lone events, so the client-side limiter's burst (5) is not what is measured. */
const LONE_SPACING_MS = 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function webhooks(options: { developers: number; log: (line: string) => void }): Promise<Omit<BenchResult, 'seconds' | 'ranAt'>> {
  const logger = createMemoryLogger();
  // Each entry stamped when logged, so a webhook's arrival is known (its entry's time minus its ms).
  const logInfo = logger.info;
  logger.info = (fields) => logInfo({ ...fields, logged_at: performance.now() });
  const bench = await startBenchSandbox({ sandbox: { provisionerLogger: logger } });
  try {
    const { sandbox, provisioner } = bench;
    const kong = sandbox.kong!;
    const stripe = sandbox.stripe!;
    const developers = Array.from({ length: options.developers }, (_, i) =>
      kong.state.addDeveloper('default', { email: `hook-${i}@example.com`, status: 0, meta: { full_name: `Hook ${i}` } }),
    );
    await mapPool(developers, 8, (developer) => postProvision(provisioner.url, developer.email, developer.id));
    await stripe.webhooks.idle();
    const blocked = () => [...kong.state.requireWs('default').plugins.values()].filter((p) => ACCESS_TAGS.every((tag) => p.tags?.includes(tag))).length;
    options.log(`${options.developers} developers provisioned, ${blocked()} refused until they add a card`);

    // Setup's own events (customers and subscriptions created) may still be applying: wait until
    // no read waits for Stripe budget and the log is quiet (reads that yielded to the signups'
    // writes log nothing while they wait, so a quiet log alone is not enough).
    for (let seen = -1; seen !== logger.entries.length || provisioner.writeLimiter.waiting > 0; ) {
      seen = logger.entries.length;
      await sleep(1500);
    }
    stripe.configure({ writeRateLimit: STRIPE_LIMIT, readRateLimit: STRIPE_LIMIT });
    const addCard = (email: string) => {
      const customer = stripe.state.customers.newestFirst().find((c) => c.email === email);
      if (!customer) throw new Error(`no customer for ${email}`);
      setDefaultPaymentMethod(stripe.state, customer.id, attachCardByNumber(stripe.state, customer.id, '4242424242424242').id);
    };
    // One at a time first: the latency of a lone event, with nothing queued before it.
    const lone = developers.splice(0, QUIET);
    const loneMs: number[] = [];
    for (const developer of lone) {
      await sleep(LONE_SPACING_MS);
      logger.entries.length = 0;
      addCard(developer.email);
      await stripe.webhooks.idle();
      const entry = logger.entries.find((e) => e.event === 'stripe_webhook' && e.change === 'unblocked');
      if (entry) loneMs.push(entry.ms as number);
    }
    const quiet = summarize(loneMs);
    logger.entries.length = 0;

    // Then the burst, and while its reads are queued, more lone events (developers not in it).
    const duringBurst = developers.splice(0, DURING_BURST);
    const duringIds = new Set(duringBurst.map((developer) => developer.id));
    const deliveriesBefore = stripe.webhooks.deliveries().length;
    const stripeRequestsBefore = stripe.counters.total;
    const started = performance.now();
    for (const developer of developers) addCard(developer.email);
    let queuedAtLoneEvents = 0;
    await sleep(DURING_BURST_AFTER_MS - LONE_SPACING_MS);
    for (const developer of duringBurst) {
      await sleep(LONE_SPACING_MS);
      queuedAtLoneEvents = Math.max(queuedAtLoneEvents, provisioner.writeLimiter.waiting);
      addCard(developer.email);
    }
    await stripe.webhooks.idle();
    // Deliveries answered within the provisioner's budget may still be applying: wait for Kong.
    const deadline = performance.now() + 180_000;
    while (blocked() > 0 && performance.now() < deadline) await sleep(50);
    const wallS = (performance.now() - started) / 1000;
    await sleep(200);

    const burstSize = developers.length;
    const handled = logger.entries.filter((entry) => entry.event === 'stripe_webhook');
    const unblocked = handled.filter((entry) => entry.change === 'unblocked');
    const inBurst = unblocked.filter((entry) => !duringIds.has(entry.developer_id as string)).map((entry) => entry.ms as number);
    const lonely = summarize(unblocked.filter((entry) => duringIds.has(entry.developer_id as string)).map((entry) => entry.ms as number));
    const deliveries = stripe.webhooks.deliveries().slice(deliveriesBefore);
    const retried = deliveries.filter((d) => d.outcome !== 'succeeded').length;
    const latency = summarize(inBurst);
    const stillBlocked = blocked();
    const eventsPerS = handled.length / wallS;
    // The provisioner's own rate: from the first webhook it received to the last access change.
    const firstArrival = Math.min(...handled.map((entry) => (entry.logged_at as number) - (entry.ms as number)));
    const lastDone = Math.max(...handled.map((entry) => entry.logged_at as number));
    const provisionerEventsPerS = handled.length / ((lastDone - firstArrival) / 1000);
    return {
      id: 'webhooks',
      title: `Webhooks: ${QUIET} developers add a card one at a time, then ${burstSize} at once while ${DURING_BURST} more add one at a time; Stripe ${STRIPE_LIMIT} requests/s`,
      metrics: {
        events_handled: handled.length,
        deliveries: deliveries.length,
        deliveries_retried: retried,
        events_per_s: round(eventsPerS),
        provisioner_events_per_s: round(provisionerEventsPerS),
        first_webhook_after_ms: round(firstArrival - started),
        stripe_requests_per_event: round((stripe.counters.total - stripeRequestsBefore) / handled.length, 2),
        developers_unblocked_per_s: round((burstSize + DURING_BURST - stillBlocked) / wallS),
        wall_s: round(wallS),
        lone_event_p50_ms: round(quiet.p50),
        lone_event_p95_ms: round(quiet.p95),
        lone_event_during_burst_p50_ms: round(lonely.p50),
        lone_event_during_burst_p95_ms: round(lonely.p95),
        reads_queued_at_lone_events_max: queuedAtLoneEvents,
        burst_unblock_p50_ms: round(latency.p50),
        burst_unblock_p95_ms: round(latency.p95),
        still_blocked: stillBlocked,
        stripe_429s: stripe.counters.snapshot().rateLimited,
      },
      parameters: {
        developers: options.developers,
        lone_events: QUIET,
        lone_events_during_burst: DURING_BURST,
        lone_event_spacing_ms: LONE_SPACING_MS,
        lone_events_during_burst_from_ms: DURING_BURST_AFTER_MS,
        burst: burstSize,
        stripe_requests_per_s: STRIPE_LIMIT,
      },
      goals: [
        { description: 'a lone event changes Kong access within 100 ms (p95), nothing queued', met: quiet.p95 < 100 },
        { description: 'a lone event changes Kong access within 100 ms (p95) while a burst is queued', met: lonely.count === DURING_BURST && lonely.p95 < 100 },
        { description: '>= 20 events/s under Stripe\'s test-mode limit (the provisioner\'s own rate: first webhook received to last change)', met: provisionerEventsPerS >= 20 },
        { description: 'no event lost: every developer unblocked', met: stillBlocked === 0 },
        { description: 'the provisioner stays under Stripe\'s limit: no 429', met: stripe.counters.snapshot().rateLimited === 0 },
      ],
      notes: [
        'Each developer gets a card inside the emulator (no API call), so only the provisioner\'s own Stripe reads count against the limit.',
        'Latency is the webhook route\'s own timing of the events that unblocked a developer: signature check, Stripe read-back, Kong plugin change.',
        'events_per_s runs from the first card to the last change, so it includes the emulator\'s delivery start (first_webhook_after_ms); with one Stripe read an event it is bound by the client budget (STRIPE_MAX_WRITES_PER_SECOND 20, plus a burst of 5).',
        'Lone events during the burst are other developers\' cards, added every 300 ms from 1 s after the burst\'s (a later second than the burst\'s events: Stripe\'s event times are whole seconds); events/s counts them with the burst.',
      ],
    };
  } finally {
    await bench.close();
  }
}

export const webhooksScenario: BenchScenario = {
  name: 'webhooks',
  summary: 'Stripe webhooks to Kong access: latency and throughput under Stripe\'s test-mode limit',
  async run(context) {
    return [await webhooks({ developers: QUIET + DURING_BURST + (context.quick ? 20 : 200), log: context.log })];
  },
};
