import { describe, expect, it } from 'vitest';
import { accessMessage, decideAccess, decisionChangesAt, refusalStatus, type BillingFacts } from './access-decision.ts';
import { createUsageBook, limitFacts, spendCapOf } from './usage-limits.ts';

const DAY = 86_400;
const now = 1_800_000_000;
const facts = (over: Partial<BillingFacts>): BillingFacts => ({
  subscription: { status: 'active' },
  hasEndedSubscription: false,
  hasPaymentMethod: true,
  paymentCollection: 'checkout',
  overdueSince: undefined,
  ...over,
});
const decide = (over: Partial<BillingFacts>, graceDays = 3) => decideAccess(facts(over), { graceDays, now });

describe('decideAccess', () => {
  it('allows active and trialing subscriptions', () => {
    expect(decide({})).toEqual({ access: 'allowed', reason: 'active' });
    expect(decide({ subscription: { status: 'trialing' }, hasPaymentMethod: false })).toEqual({ access: 'allowed', reason: 'trialing' });
  });

  it('refuses an active subscription without a card only under checkout collection', () => {
    expect(decide({ hasPaymentMethod: false })).toEqual({ access: 'refused', reason: 'payment_method_required' });
    expect(decide({ hasPaymentMethod: false, paymentCollection: 'invoice' }).access).toBe('allowed');
    expect(decide({ hasPaymentMethod: false, paymentCollection: 'none' }).access).toBe('allowed');
  });

  it('gives past_due the grace counted from the first failed payment, then refuses', () => {
    const since = now - 2 * DAY;
    expect(decide({ subscription: { status: 'past_due' }, overdueSince: since })).toEqual({ access: 'grace', reason: 'past_due_grace', graceEndsAt: since + 3 * DAY });
    expect(decide({ subscription: { status: 'past_due' }, overdueSince: now - 3 * DAY })).toEqual({ access: 'refused', reason: 'payment_overdue' });
    expect(decide({ subscription: { status: 'past_due' }, overdueSince: since }, 0).access).toBe('refused');
  });

  it('a payment held for 3-D Secure follows the same grace, with its own reason and messages', () => {
    const since = now - 2 * DAY;
    const held = { subscription: { status: 'past_due' as const }, overdueSince: since, confirmPaymentUrl: 'https://invoice.stripe.com/i/x' };
    const grace = decide(held);
    expect(grace).toEqual({ access: 'grace', reason: 'payment_confirmation_required', graceEndsAt: since + 3 * DAY });
    const refused = decide({ ...held, overdueSince: now - 3 * DAY });
    expect(refused).toEqual({ access: 'refused', reason: 'payment_confirmation_required' });
    expect(accessMessage(grace, 'https://portal.example/dashboard')).toMatch(/confirm your last payment\. Confirm it at https:\/\/portal\.example\/dashboard before /);
    expect(accessMessage(refused, 'https://portal.example/dashboard')).toMatch(/^Payment needs your confirmation: .* Confirm it at https:\/\/portal\.example\/dashboard to restore access\.$/);
    // The 402 body reaches whoever holds the key: it names the portal, never the invoice page.
    expect(accessMessage(refused, 'https://portal.example/dashboard')).not.toContain('invoice.stripe.com');
  });

  it('refuses past_due when the first failure cannot be dated', () => {
    expect(decide({ subscription: { status: 'past_due' }, overdueSince: undefined }).access).toBe('refused');
  });

  it.each([
    ['unpaid', 'subscription_unpaid'],
    ['paused', 'subscription_paused'],
    ['incomplete', 'subscription_incomplete'],
    ['canceled', 'subscription_ended'],
    ['incomplete_expired', 'subscription_ended'],
  ] as const)('refuses %s', (status, reason) => {
    expect(decide({ subscription: { status } })).toEqual({ access: 'refused', reason });
  });

  it('refuses a developer whose subscriptions all ended, and allows one not yet provisioned when no card is collected', () => {
    expect(decide({ subscription: undefined, hasEndedSubscription: true })).toEqual({ access: 'refused', reason: 'subscription_ended' });
    expect(decide({ subscription: undefined, paymentCollection: 'invoice' })).toEqual({ access: 'allowed', reason: 'not_provisioned' });
    expect(decide({ subscription: undefined, paymentCollection: 'none' })).toEqual({ access: 'allowed', reason: 'not_provisioned' });
  });

  // Issue 17.1: "no subscription found" (an email change, a failed read) was an allowance.
  it('under card collection, no subscription found is a refusal, not an allowance', () => {
    expect(decide({ subscription: undefined })).toEqual({ access: 'refused', reason: 'not_provisioned' });
    expect(accessMessage({ access: 'refused', reason: 'not_provisioned' }, undefined)).toMatch(/^Access pending: billing for this account is not set up yet/);
  });

  // Issue 17.2: a developer whose provisioning always fails was never blocked.
  it('refuses a developer whose provisioning cannot succeed, whatever the collection, naming the problem', () => {
    const problem = 'plan "doesnotexist" is not offered and there is no default plan';
    for (const paymentCollection of ['checkout', 'invoice', 'none'] as const)
      expect(decide({ subscription: undefined, paymentCollection, provisioningProblem: problem })).toEqual({ access: 'refused', reason: 'provisioning_failed', problem });
    expect(accessMessage({ access: 'refused', reason: 'provisioning_failed', problem }, undefined)).toContain(problem);
  });

  it('refuses a removed developer whatever Stripe says', () => {
    expect(decide({ developerRemoved: true })).toEqual({ access: 'refused', reason: 'developer_removed' });
  });
});

describe('accessMessage', () => {
  it('says why and where to fix it', () => {
    expect(accessMessage({ access: 'refused', reason: 'payment_method_required' }, 'https://portal.example/dashboard')).toBe(
      'Payment required: add a payment method at https://portal.example/dashboard to use this API.',
    );
    expect(accessMessage({ access: 'grace', reason: 'past_due_grace', graceEndsAt: Date.UTC(2026, 11, 3) / 1000 }, undefined)).toContain('before 2026-12-03');
  });
});

describe('decideAccess with quota and spend-cap facts (one request-termination: one message)', () => {
  const end = now + 10 * DAY;
  const quota = (used: number, resetsAt = end) => ({ limit: 1000, used, resetsAt });
  const spendCap = (spent: number, resetsAt = end) => ({ cap: 5000, spent, currency: 'usd', resetsAt });

  it('refuses with 429 at the hard quota, naming the limit and the reset; a new period lifts it', () => {
    expect(decide({ quota: quota(999) })).toEqual({ access: 'allowed', reason: 'active' });
    const over = decide({ quota: quota(1000) });
    expect(over).toMatchObject({ access: 'refused', reason: 'quota_exceeded' });
    expect(refusalStatus(over)).toBe(429);
    expect(decisionChangesAt(over)).toBe(end);
    expect(accessMessage(over, 'https://portal.example.com/dashboard')).toBe(
      `Quota reached: your plan allows 1,000 calls per billing period. It resets at ${new Date(end * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC; upgrade your plan at https://portal.example.com/dashboard to continue now.`,
    );
    // Figures of a period that has ended no longer refuse.
    expect(decide({ quota: quota(5000, now) })).toEqual({ access: 'allowed', reason: 'active' });
  });

  it('refuses with 402 at the spend cap, naming the cap and how to raise it', () => {
    expect(decide({ spendCap: spendCap(4999) }).access).toBe('allowed');
    const capped = decide({ spendCap: spendCap(5000) });
    expect(capped).toMatchObject({ access: 'refused', reason: 'spend_cap_reached' });
    expect(refusalStatus(capped)).toBe(402);
    expect(accessMessage(capped, undefined)).toMatch(/^Spend cap reached: this period's usage has reached the monthly cap of 50\.00 USD you set\. Raise the cap in the developer portal or wait/);
  });

  it('payment refusal wins over the quota, which wins over the spend cap', () => {
    const pastDue = { subscription: { status: 'past_due' as const }, overdueSince: now - 10 * DAY };
    expect(decide({ ...pastDue, quota: quota(2000), spendCap: spendCap(9000) })).toEqual({ access: 'refused', reason: 'payment_overdue' });
    expect(refusalStatus(decide({ ...pastDue, quota: quota(2000) }))).toBe(402);
    expect(decide({ hasPaymentMethod: false, quota: quota(2000) }).reason).toBe('payment_method_required');
    expect(decide({ quota: quota(2000), spendCap: spendCap(9000) }).reason).toBe('quota_exceeded');
    // In grace the payment does not refuse yet: the quota does.
    expect(decide({ subscription: { status: 'past_due' }, overdueSince: now - DAY, quota: quota(2000) }).reason).toBe('quota_exceeded');
  });
});

describe('limitFacts (the usage seam)', () => {
  const usage = { calls: 1200, amountSoFar: 700, currency: 'eur', periodEnd: now + DAY };
  const hard = { limits: { quota: { calls: 1000, enforcement: 'hard' as const } } };

  it('turns a hard quota and a spend cap into facts; a soft quota, no cap or no figures into none', () => {
    expect(limitFacts(hard, { metadata: { kpm_spend_cap: '500' } }, usage)).toEqual({
      quota: { limit: 1000, used: 1200, resetsAt: now + DAY },
      spendCap: { cap: 500, spent: 700, currency: 'eur', resetsAt: now + DAY },
    });
    expect(limitFacts({ limits: { quota: { calls: 1000, enforcement: 'soft' } } }, { metadata: {} }, usage)).toEqual({});
    expect(limitFacts(hard, { metadata: { kpm_spend_cap: '500' } }, undefined)).toEqual({});
  });

  it('ignores a cap edited by hand into something that is no amount', () => {
    for (const bad of ['', '-5', '12.5', 'lots']) expect(spendCapOf({ metadata: { kpm_spend_cap: bad } })).toBeUndefined();
  });

  it('the book re-decides only changed figures', () => {
    const book = createUsageBook();
    expect(book.record('d', usage)).toBe(true);
    expect(book.record('d', { ...usage })).toBe(false);
    expect(book.record('d', { ...usage, calls: 1201 })).toBe(true);
    expect(book.periodUsage('d')?.calls).toBe(1201);
  });
});
