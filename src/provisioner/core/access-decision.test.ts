import { describe, expect, it } from 'vitest';
import { accessMessage, decideAccess, type BillingFacts } from './access-decision.ts';

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
