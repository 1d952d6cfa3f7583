/**
 * Reliability: faults at every step of provisioning, and a provisioner killed between steps.
 * After the provisioner's own retries, a retry of the request where the developer would retry,
 * and ONE reconcile run, every developer has exactly one Stripe customer, one subscription and a
 * Moesif user (user_id = email, company_id = the subscription id) with its company. Faults are
 * targeted at one developer each (seeded by construction), so every run injects the same faults.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reconcileDevelopers, type ReconcileReport } from '../admin/reconcile/reconcile-developers.ts';
import { silentLogger } from '../shared/provision-log.ts';
import { createProvisionerCore } from '../provisioner/compose.ts';
import { startProvisioner, type RunningProvisioner } from '../provisioner/server.ts';
import type { StripeFaultKind } from '../sandbox/stripe/stripe-emulator.ts';
import type { MoesifFaultKind } from '../sandbox/moesif/moesif-emulator.ts';
import type { FaultHandle, FaultRequest, FaultTiming } from '../sandbox/faults/fault-injector.ts';
import { auditBilling } from '../testkit/billing-audit.ts';
import { spawnProvisioner, type ProvisionerProcess } from '../testkit/provisioner-process.ts';
import { FAST_PROVISIONER, provisionOverHttp, startReliabilitySandbox, type ReliabilitySandbox } from '../testkit/reliability-sandbox.ts';

let rs: ReliabilitySandbox;

beforeAll(async () => {
  rs = await startReliabilitySandbox();
});
afterAll(async () => {
  await rs?.close();
});

function addDeveloper(email: string): string {
  return rs.kong.state.addDeveloper('default', { email, meta: { full_name: `Dev ${email.split('@')[0]}` } }).id;
}

const params = (request: FaultRequest) => (request.params ?? {}) as { email?: string; user_id?: string; metadata?: { kong_developer_id?: string } };

type MoesifRecord = { user_id?: string; company_id?: string; metadata?: { kong_developer_id?: string; stripe_customer_id?: string } };
/** A Moesif route and its batch twin: records that meet in the outbox travel as one batch call. */
const moesifRoute = (path: string) => new RegExp(`^${path}(/batch)?$`);
/** Whether a Moesif request (single record or batch) carries a record this predicate picks. */
function carries(request: FaultRequest, pick: (record: MoesifRecord) => boolean): boolean {
  const body = request.params as MoesifRecord | MoesifRecord[] | undefined;
  return Array.isArray(body) ? body.some(pick) : pick(body ?? {});
}

/** One reconcile run with the provisioner's own code, as `npm run reconcile` does. */
async function reconcileOnce(): Promise<ReconcileReport> {
  const core = createProvisionerCore(rs.settings, { ...FAST_PROVISIONER, logger: silentLogger });
  try {
    return await reconcileDevelopers({ listDevelopers: () => core.kong.listDevelopers(), provisioner: core.provisioner, moesif: core.moesif });
  } finally {
    core.moesif.close();
  }
}

function expectExactlyOnce(emails: readonly string[]): void {
  const audit = auditBilling(rs.stripe, rs.moesif, emails);
  expect(audit.duplicated, 'developers with more than one customer or subscription').toEqual([]);
  expect(audit.missing, 'developers without a customer or subscription').toEqual([]);
  expect(audit.moesifMissing, 'developers without a linked Moesif user and company').toEqual([]);
  expect(audit.whole).toBe(emails.length);
}

/** A provisioner answer is a success or a clear error: {error: {code, message}}, never a stack. */
/** The developer id Kong gave this email's signup: the page's proof. */
function proofOf(email: string): string | undefined {
  return rs.kong.state.getDeveloper('default', email)?.id;
}

function expectClearAnswer(answer: { status: number; body: unknown }): void {
  if (answer.status === 200) return;
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  expect(typeof error?.code, JSON.stringify(answer)).toBe('string');
  expect(String(error?.message)).not.toMatch(/\n\s+at /);
}

describe('faults at each step', () => {
  it('every Stripe and Moesif fault, before and after the write: nothing lost, nothing doubled', async () => {
    const provisioner: RunningProvisioner = await startProvisioner(rs.settings, { ...FAST_PROVISIONER, port: 0, logger: silentLogger });
    // Removed in `finally` too: the sandbox is shared with the next test.
    let outages: FaultHandle[] = [];
    try {
      const emails: string[] = [];
      const handles: Array<{ name: string; handle: FaultHandle }> = [];
      const timings: FaultTiming[] = ['before', 'after'];
      const stripeKinds: StripeFaultKind[] = ['500', '429', 'drop', 'timeout', 'lock_timeout'];
      for (const when of timings) {
        for (const kind of stripeKinds) {
          const customerEmail = `customer-${kind}-${when}@example.com`;
          addDeveloper(customerEmail);
          emails.push(customerEmail);
          handles.push({
            name: `customer create ${kind} ${when}`,
            handle: rs.stripe.faults.add({ kind, when, method: 'POST', path: '/v1/customers', match: (r) => params(r).email === customerEmail }),
          });
          const subscriptionEmail = `subscription-${kind}-${when}@example.com`;
          const developerId = addDeveloper(subscriptionEmail);
          emails.push(subscriptionEmail);
          handles.push({
            name: `subscription create ${kind} ${when}`,
            handle: rs.stripe.faults.add({ kind, when, method: 'POST', path: '/v1/subscriptions', match: (r) => params(r).metadata?.kong_developer_id === developerId }),
          });
        }
        const moesifKinds: MoesifFaultKind[] = ['500', 'timeout'];
        for (const kind of moesifKinds) {
          for (const path of ['/v1/users', '/v1/companies']) {
            const email = `moesif${path.replace('/v1/', '-')}-${kind}-${when}@example.com`;
            const developerId = addDeveloper(email);
            emails.push(email);
            const mine = (r: FaultRequest) =>
              carries(r, (record) => (path === '/v1/users' ? record.user_id === email : record.metadata?.kong_developer_id === developerId || companyOf(record) === email));
            handles.push({ name: `moesif ${path} ${kind} ${when}`, handle: rs.moesif.faults.add({ kind, when, method: 'POST', path: moesifRoute(path), match: mine }) });
          }
        }
      }
      // Outages longer than any retry budget: every attempt fails until the outage ends.
      const outageEmails = ['outage-customer@example.com', 'outage-subscription@example.com', 'outage-moesif@example.com'];
      const outageIds = outageEmails.map((email) => addDeveloper(email));
      emails.push(...outageEmails);
      outages = [
        rs.stripe.faults.add({ kind: '500', times: Infinity, method: 'POST', path: '/v1/customers', match: (r) => params(r).email === outageEmails[0] }),
        rs.stripe.faults.add({ kind: 'drop', times: Infinity, method: 'POST', path: '/v1/subscriptions', match: (r) => params(r).metadata?.kong_developer_id === outageIds[1] }),
        rs.moesif.faults.add({ kind: '500', times: Infinity, method: 'POST', path: moesifRoute('/v1/users'), match: (r) => carries(r, (record) => record.user_id === outageEmails[2]) }),
      ];

      const first = await Promise.all(emails.map((email) => provisionOverHttp(provisioner.url, email, proofOf(email))));
      first.forEach(expectClearAnswer);
      // Moesif is told in the background (batched), so its faults may fire after the answers:
      // wait for them rather than race the batch (a loaded machine made this flaky).
      await vi.waitFor(() => {
        for (const { name, handle } of handles) expect(handle.fired, name).toBe(1);
      }, { timeout: 20_000, interval: 100 });
      // The Stripe outages could not be papered over: those signups answered a clear 502.
      expect(first[emails.indexOf(outageEmails[0]!)]).toMatchObject({ status: 502, body: { error: { code: 'stripe_unavailable' } } });
      expect(first[emails.indexOf(outageEmails[1]!)]).toMatchObject({ status: 502, body: { error: { code: 'stripe_unavailable' } } });
      // Moesif never fails a signup: Stripe is whole and Moesif is queued for retry.
      expect(first[emails.indexOf(outageEmails[2]!)]).toMatchObject({ status: 200, body: { moesif: 'pending' } });

      outages.forEach((outage) => outage.remove());
      // Where the developer would retry (the page's retry, the event hook): once more.
      const retried = await Promise.all(emails.map((email, i) => (first[i]?.status === 200 ? first[i] : provisionOverHttp(provisioner.url, email, proofOf(email)))));
      retried.forEach(expectClearAnswer);

      const report = await reconcileOnce();
      expect(report.failures).toEqual([]);
      expectExactlyOnce(emails);
    } finally {
      outages.forEach((outage) => outage.remove());
      await provisioner.close();
    }
  }, 60_000);
});

/** Moesif company records carry no email; match them through the Stripe customer's email. */
function companyOf(record: MoesifRecord): string | undefined {
  const customerId = record.metadata?.stripe_customer_id;
  const customer = customerId ? (rs.stripe.snapshot().customers as Array<{ id: string; email: string | null }>).find((c) => c.id === customerId) : undefined;
  return customer?.email ?? undefined;
}

describe('provisioner killed between steps, then restarted', () => {
  it('SIGKILL at each step boundary; after a restart, a retry and one reconcile everyone is billed exactly once', async () => {
    const killPoints: Array<{ email: string; arm: (kill: () => void, developerId: string, email: string) => FaultHandle; left: string }> = [
      {
        email: 'killed-before-customer-answer@example.com',
        left: 'customer written, answer lost',
        arm: (kill, _id, email) => rs.stripe.faults.add({ kind: 'drop', when: 'after', method: 'POST', path: '/v1/customers', match: (r) => params(r).email === email && killed(kill) }),
      },
      {
        email: 'killed-before-subscription@example.com',
        left: 'customer only',
        arm: (kill, id) => rs.stripe.faults.add({ kind: 'drop', when: 'before', method: 'POST', path: '/v1/subscriptions', match: (r) => params(r).metadata?.kong_developer_id === id && killed(kill) }),
      },
      {
        email: 'killed-after-subscription@example.com',
        left: 'customer and subscription, no Moesif',
        arm: (kill, id) => rs.stripe.faults.add({ kind: 'drop', when: 'after', method: 'POST', path: '/v1/subscriptions', match: (r) => params(r).metadata?.kong_developer_id === id && killed(kill) }),
      },
      {
        email: 'killed-between-moesif-calls@example.com',
        left: 'Stripe whole, Moesif company only',
        arm: (kill, _id, email) => rs.moesif.faults.add({ kind: 'drop', when: 'before', method: 'POST', path: moesifRoute('/v1/users'), match: (r) => carries(r, (record) => record.user_id === email) && killed(kill) }),
      },
    ];
    const emails = killPoints.map((point) => point.email);
    let running: ProvisionerProcess | undefined;
    try {
      for (const point of killPoints) {
        const id = addDeveloper(point.email);
        running = await spawnProvisioner(rs.env);
        const current = running;
        const handle = point.arm(() => current.kill(), id, point.email);
        const answer = await provisionOverHttp(current.url, point.email, proofOf(point.email));
        await current.exited;
        expect(handle.fired, point.left).toBe(1);
        expect(answer.status, `${point.left}: the caller saw the connection die`).toBe(0);
      }
      // What the kills left behind, before anything repairs it.
      const partial = auditBilling(rs.stripe, rs.moesif, emails).developers;
      expect(partial.map((d) => [d.customers, d.subscriptions, d.moesifUserLinked])).toEqual([
        [1, 0, false],
        [1, 0, false],
        [1, 1, false],
        [1, 1, false],
      ]);

      // Restarted; the first developer retries (the page's retry); the rest wait for reconcile.
      running = await spawnProvisioner(rs.env);
      expect(await provisionOverHttp(running.url, emails[0]!, proofOf(emails[0]!))).toMatchObject({ status: 200, body: { moesif: 'synced' } });
      const report = await reconcileOnce();
      expect(report.failures).toEqual([]);
      // The developer left with a customer only got its subscription from reconcile.
      expect(report.fixes.map((fix) => [fix.email, fix.parts])).toEqual([[emails[1], ['subscription']]]);
      expectExactlyOnce(emails);
    } finally {
      running?.kill();
      await running?.exited;
    }
  }, 60_000);
});

/** Kills the provisioner from inside the emulator, at the exact moment the request arrives. */
function killed(kill: () => void): true {
  kill();
  return true;
}
