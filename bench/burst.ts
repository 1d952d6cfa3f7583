/**
 * Benchmark 4: a signup burst. 500 developers exist in Kong; POST /provision is called for all of
 * them at concurrency 50 while the Stripe emulator allows 25 writes/s, Stripe test mode's limit.
 * Two writes per developer make the floor 2 x 500 / 25 = 40 s. Reported: wall time against that
 * floor, 429s Stripe answered, and the exactly-once audit (duplicates and failures must be 0).
 * Run with the provisioner's default client-side pacing, and (full run) paced at the limit itself.
 */
import { auditBilling } from '../src/testkit/billing-audit.ts';
import type { BenchResult, BenchScenario } from './bench-types.ts';
import { postProvision, startBenchSandbox } from './support/bench-sandbox.ts';
import { mapPool } from './support/pool.ts';
import { round, summarize } from './support/stats.ts';

const STRIPE_WRITE_LIMIT = 25;

async function burst(options: { developers: number; concurrency: number; maxWritesPerSecond: number | undefined; log: (line: string) => void }): Promise<Omit<BenchResult, 'seconds' | 'ranAt'>> {
  const bench = await startBenchSandbox({
    sandbox: { stripeEmulator: { writeRateLimit: STRIPE_WRITE_LIMIT } },
    provisionerEnv: options.maxWritesPerSecond === undefined ? {} : { STRIPE_MAX_WRITES_PER_SECOND: String(options.maxWritesPerSecond) },
  });
  try {
    const { sandbox, provisioner, settings } = bench;
    const kong = sandbox.kong!;
    const stripe = sandbox.stripe!;
    const emails = Array.from({ length: options.developers }, (_, i) => `burst-${i}@example.com`);
    const ids = new Map(emails.map((email, i) => [email, kong.state.addDeveloper('default', { email, meta: { full_name: `Burst Developer ${i}` } }).id]));
    // Warm the price cache with one read, then start from clean counters and a full bucket.
    await fetch(`${provisioner.url}/plans`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    stripe.counters.reset();

    options.log(`${options.developers} developers at concurrency ${options.concurrency}, provisioner pacing ${settings.stripe.maxWritesPerSecond} writes/s`);
    const started = performance.now();
    let done = 0;
    const answers = await mapPool(emails, options.concurrency, async (email) => {
      const answer = await postProvision(provisioner.url, email, ids.get(email)!);
      if (++done % 100 === 0) options.log(`${done}/${emails.length} provisioned, ${round((performance.now() - started) / 1000)} s`);
      return answer;
    });
    const wallS = (performance.now() - started) / 1000;
    // Moesif is told in the background after each answer: give the last deliveries a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const counters = stripe.counters.snapshot();
    const audit = auditBilling(stripe, sandbox.moesif, emails);
    const failures = answers.filter((a) => a.status !== 200).length;
    const floorS = (2 * options.developers) / STRIPE_WRITE_LIMIT;
    const latency = summarize(answers.map((a) => a.ms));
    return {
      id: options.maxWritesPerSecond === undefined ? 'burst' : 'burst-at-limit',
      title: `Burst: ${options.developers} signups at concurrency ${options.concurrency}, Stripe ${STRIPE_WRITE_LIMIT} writes/s${options.maxWritesPerSecond === undefined ? '' : `, provisioner paced at ${options.maxWritesPerSecond}/s`}`,
      metrics: {
        wall_s: round(wallS),
        floor_s: round(floorS),
        wall_over_floor: round(wallS / floorS, 2),
        stripe_writes: counters.writes,
        stripe_429s: counters.rateLimited,
        duplicates: audit.duplicated.length,
        failures: failures + audit.missing.length,
        moesif_linked: audit.developers.filter((d) => d.moesifUserLinked && d.moesifCompany).length,
        request_p50_ms: latency.p50,
        request_p95_ms: latency.p95,
        request_max_ms: latency.max,
      },
      parameters: {
        developers: options.developers,
        concurrency: options.concurrency,
        stripe_write_limit_per_s: STRIPE_WRITE_LIMIT,
        provisioner_max_writes_per_s: settings.stripe.maxWritesPerSecond,
      },
      goals: [
        { description: 'duplicates = 0 (one customer and one subscription per developer)', met: audit.duplicated.length === 0 },
        { description: 'failures = 0 (every POST /provision answered 200 and every developer is billed)', met: failures === 0 && audit.missing.length === 0 },
      ],
      notes: [
        `floor = 2 writes x ${options.developers} developers / ${STRIPE_WRITE_LIMIT} writes/s; the provisioner paces writes at ${settings.stripe.maxWritesPerSecond}/s (STRIPE_MAX_WRITES_PER_SECOND), so its own floor is ${round((2 * options.developers) / settings.stripe.maxWritesPerSecond)} s`,
        `Stripe answers by status: ${Object.entries(counters.statuses).map(([s, n]) => `${s} ${n}`).join(', ')}`,
      ],
    };
  } finally {
    await bench.close();
  }
}

export const burstScenario: BenchScenario = {
  name: 'burst',
  summary: '500 developers at concurrency 50, Stripe limited to 25 writes/s (~50 s; ~90 s with the at-limit run)',
  async run({ quick, log }) {
    const developers = quick ? 50 : 500;
    const concurrency = quick ? 10 : 50;
    const results = [await burst({ developers, concurrency, maxWritesPerSecond: undefined, log })];
    // Paced exactly at Stripe's limit: faster, and the 429 path gets exercised.
    if (!quick) results.push(await burst({ developers, concurrency, maxWritesPerSecond: STRIPE_WRITE_LIMIT, log }));
    return results;
  },
};
