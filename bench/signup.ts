/**
 * Benchmarks 1 and 2, in a real Chromium against the sandbox with the Stripe and Moesif
 * emulators answering in 50 ms: a person fills the register page (bundle installed by sync) and
 * submits; we time submit -> redirect in the page, the /provision request inside it, and the long
 * tasks on the page. Beside it: the same signups with the bundle uninstalled (Kong alone), our
 * POST /provision timed from Node, and the seeds' flow (customer, then subscription, then Moesif
 * user, one call after another, as the articles' page did) timed the same way from Node.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_HINT, findChromium } from '../e2e/chromium.ts';
import { KongAdminClient } from '../src/kong/kong-admin-client.ts';
import { syncBundle } from '../src/admin/sync/sync-bundle.ts';
import { FREE_PORTS, SANDBOX_MOESIF_APP_ID, SANDBOX_STRIPE_KEY, startSandbox, type Sandbox } from '../src/dev/start-sandbox.ts';
import type { BenchScenario, BenchResult } from './bench-types.ts';
import { pageProbeScript, PROBE_KEY_PREFIX, type PageProbe } from './support/page-probe.ts';
import { postProvision } from './support/bench-sandbox.ts';
import { round, summarize } from './support/stats.ts';

const LATENCY_MS = 50;
const PASSWORD = 'bench password 1234';

interface SignupSample {
  submitToRedirectMs: number;
  provisionMs: number | null;
  longTasks: number | null;
  longTasksDuringSignup: number | null;
  longestTaskMs: number | null;
}

async function signUp(browser: Browser, sandbox: Sandbox, email: string): Promise<SignupSample> {
  const portal = `${sandbox.kong!.portalUrl}/default`;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.addInitScript({ content: pageProbeScript() });
    await page.goto(`${portal}/register`);
    await page.fill('#register input[name=email]', email);
    await page.fill('#register input[name=password]', PASSWORD);
    await page.fill('#register input[name=full_name]', 'Bench Developer');
    await Promise.all([page.waitForURL(`${portal}/dashboard`, { timeout: 30_000 }), page.click('#register-submit')]);
    const raw = await page.evaluate((key) => sessionStorage.getItem(key), `${PROBE_KEY_PREFIX}/default/register`);
    if (!raw) throw new Error('the register page left no probe record (window.navigation missing?)');
    const probe = JSON.parse(raw) as PageProbe;
    if (probe.submitAt === null || probe.navigateAt === null) throw new Error('the probe saw no submit or no redirect');
    const provision = probe.requests.find((r) => /\/provision(\?|$)/.test(r.name));
    const submitAt = probe.submitAt;
    const navigateAt = probe.navigateAt;
    const during = probe.longTasks?.filter((t) => t.start + t.duration >= submitAt && t.start <= navigateAt);
    return {
      submitToRedirectMs: navigateAt - submitAt,
      provisionMs: provision ? provision.duration : null,
      longTasks: probe.longTasks ? probe.longTasks.length : null,
      longTasksDuringSignup: during ? during.length : null,
      longestTaskMs: probe.longTasks?.length ? Math.max(...probe.longTasks.map((t) => t.duration)) : probe.longTasks ? 0 : null,
    };
  } finally {
    await context.close();
  }
}

async function signUpMany(browser: Browser, sandbox: Sandbox, prefix: string, count: number, log: (line: string) => void): Promise<SignupSample[]> {
  // Two unmeasured signups first: Chromium and the servers warm up.
  for (let i = 0; i < 2; i++) await signUp(browser, sandbox, `${prefix}-warmup-${i}@example.com`);
  const samples: SignupSample[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(await signUp(browser, sandbox, `${prefix}-${i}@example.com`));
    if ((i + 1) % 10 === 0) log(`${prefix}: ${i + 1}/${count} signups`);
  }
  return samples;
}

/** The seeds' order: Stripe customer, then subscription, then the Moesif user, each awaited. */
async function seedsFlow(sandbox: Sandbox, priceId: string, email: string): Promise<number> {
  const stripe = sandbox.stripe!.url;
  const headers = { authorization: `Bearer ${SANDBOX_STRIPE_KEY}`, 'content-type': 'application/x-www-form-urlencoded' };
  const started = performance.now();
  const customer = (await (await fetch(`${stripe}/v1/customers`, { method: 'POST', headers, body: new URLSearchParams({ email, name: 'Seed Developer' }) })).json()) as { id: string };
  const subscription = (await (
    await fetch(`${stripe}/v1/subscriptions`, { method: 'POST', headers, body: new URLSearchParams({ customer: customer.id, 'items[0][price]': priceId }) })
  ).json()) as { id: string };
  const user = await fetch(`${sandbox.moesif!.url}/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-moesif-application-id': SANDBOX_MOESIF_APP_ID },
    body: JSON.stringify({ user_id: email, company_id: subscription.id, metadata: { email } }),
  });
  await user.arrayBuffer();
  if (!customer.id || !subscription.id || !user.ok) throw new Error('the seeds-flow baseline failed against the emulators');
  return performance.now() - started;
}

function numbers(values: Array<number | null>): number[] {
  return values.filter((v): v is number => v !== null);
}

export const signupScenario: BenchScenario = {
  name: 'signup',
  summary: 'signup latency in Chromium (p50/p95) and main-thread long tasks, Stripe and Moesif at 50 ms',
  async run({ quick, log }) {
    const executablePath = findChromium();
    if (!executablePath) throw new Error(CHROMIUM_HINT);
    const count = quick ? 5 : 30;
    const sandbox = await startSandbox({
      ports: FREE_PORTS,
      stripeEmulator: { latencyMs: LATENCY_MS },
      moesifEmulator: { latencyMs: LATENCY_MS },
      provisionRateLimitPerMinute: 100_000,
      // Signup latency up to the dashboard redirect: no Checkout step in between.
      provisionerEnv: { PAYMENT_COLLECTION: 'none' },
    });
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      log(`${count} signups with the bundle`);
      const withBundle = await signUpMany(browser, sandbox, 'with-bundle', count, log);

      log(`${count} POST /provision from Node (developers already in Kong)`);
      const direct: number[] = [];
      for (let i = 0; i < count + 2; i++) {
        const email = `direct-${i}@example.com`;
        const { id } = sandbox.kong!.state.addDeveloper('default', { email, meta: { full_name: 'Direct Developer' } });
        const answer = await postProvision(sandbox.provisioner!.url, email, id);
        if (answer.status !== 200) throw new Error(`POST /provision answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        if (i >= 2) direct.push(answer.ms);
      }

      log(`${count} runs of the seeds' sequential flow from Node`);
      const price = (sandbox.stripe!.snapshot().prices as Array<{ id: string; lookup_key: string | null; active: boolean }>).find((p) => p.active && p.lookup_key === 'kpm_starter_monthly');
      if (!price) throw new Error('the sandbox catalog has no active kpm_starter_monthly price');
      const seeds: number[] = [];
      for (let i = 0; i < count + 2; i++) {
        const ms = await seedsFlow(sandbox, price.id, `seeds-${i}@example.com`);
        if (i >= 2) seeds.push(ms);
      }

      log(`${count} signups with the bundle uninstalled (Kong alone)`);
      const client = new KongAdminClient({ adminUrl: sandbox.kong!.adminUrl, workspace: 'default' });
      const backupRoot = await mkdtemp(join(tmpdir(), 'kpm-bench-signup-'));
      await syncBundle({ client, uninstall: true, secretEnv: {}, backupRoot }).finally(() => rm(backupRoot, { recursive: true, force: true }));
      const withoutBundle = await signUpMany(browser, sandbox, 'without-bundle', count, log);

      const total = summarize(withBundle.map((s) => s.submitToRedirectMs));
      const kongOnly = summarize(withoutBundle.map((s) => s.submitToRedirectMs));
      const provision = summarize(numbers(withBundle.map((s) => s.provisionMs)));
      const fromNode = summarize(direct);
      const seedsSummary = summarize(seeds);
      const budget = 2 * LATENCY_MS + 10;
      const addedP50 = round(total.p50 - kongOnly.p50);

      const longTaskCounts = numbers(withBundle.map((s) => s.longTasksDuringSignup));
      const pageLongTasks = numbers(withBundle.map((s) => s.longTasks));
      const kongPageLongTasks = numbers(withoutBundle.map((s) => s.longTasks));
      const longest = numbers(withBundle.map((s) => s.longestTaskMs));
      const latency: Omit<BenchResult, 'seconds' | 'ranAt'> = {
        id: 'signup-latency',
        title: `Signup latency in Chromium, ${count} signups, Stripe and Moesif emulators at ${LATENCY_MS} ms per call`,
        metrics: {
          submit_to_redirect_p50_ms: total.p50,
          submit_to_redirect_p95_ms: total.p95,
          kong_alone_p50_ms: kongOnly.p50,
          kong_alone_p95_ms: kongOnly.p95,
          added_by_provisioning_p50_ms: addedP50,
          provision_request_p50_ms: provision.p50,
          provision_request_p95_ms: provision.p95,
          provision_from_node_p50_ms: fromNode.p50,
          provision_from_node_p95_ms: fromNode.p95,
          seeds_flow_p50_ms: seedsSummary.p50,
          seeds_flow_p95_ms: seedsSummary.p95,
        },
        parameters: { signups: count, warmup: 2, stripe_latency_ms: LATENCY_MS, moesif_latency_ms: LATENCY_MS, browser: 'Chromium (headless, playwright-core)' },
        goals: [
          { description: `time added by provisioning (the /provision request in the page), p50 <= 2 Stripe round trips + 10 ms = ${budget} ms`, met: provision.p50 <= budget },
        ],
        notes: [
          'submit_to_redirect: submit event -> the theme sets location (window.navigation "navigate"), measured in the page',
          'added_by_provisioning: difference of the submit-to-redirect medians with and without the bundle',
          "seeds_flow: POST /v1/customers, POST /v1/subscriptions, POST Moesif /v1/users, one after another, from Node against the same emulators (no lookup, no idempotency, no Kong read)",
          'provision_*: our POST /provision: Kong developer read, price (cached), customer list + create, subscription list + create, Moesif company + user',
        ],
      };
      const mainThread: Omit<BenchResult, 'seconds' | 'ranAt'> = {
        id: 'signup-main-thread',
        title: 'Main thread: long tasks (> 50 ms) on the register page',
        metrics: {
          long_tasks_during_signup_total: longTaskCounts.reduce((a, b) => a + b, 0),
          long_tasks_page_lifetime_total: pageLongTasks.reduce((a, b) => a + b, 0),
          long_tasks_page_lifetime_without_bundle: kongPageLongTasks.reduce((a, b) => a + b, 0),
          longest_task_ms: longest.length ? round(Math.max(...longest)) : null,
          pages_measured: withBundle.length,
        },
        parameters: { signups: count, observer: "PerformanceObserver({type: 'longtask', buffered: true}) from before the page's scripts" },
        goals: [{ description: 'no long task on the page during signup (submit -> redirect)', met: longTaskCounts.length === withBundle.length ? longTaskCounts.every((n) => n === 0) : null }],
        notes: ['page lifetime = from navigation start to the redirect, page load included'],
      };
      return [latency, mainThread];
    } finally {
      await browser.close();
      await sandbox.close();
    }
  },
};
