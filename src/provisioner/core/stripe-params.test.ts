// The subscription a developer gets names its billing mode itself (issue 18): Stripe's default moved
// from classic to flexible in 2025-09-30.clover, and a default change must not move our invoices.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parsePlans } from '../../shared/plans.ts';
import { subscriptionParams } from './stripe-params.ts';

const developer = { id: '6f1c6a9e-0000-4000-8000-000000000001', email: 'ada@example.com', status: 0, meta: '{"full_name":"Ada"}', consumer: null, created_at: 0 };

describe('subscription params', () => {
  it('set billing_mode flexible explicitly, for card, invoice and trial plans alike', async () => {
    const plans = parsePlans(JSON.parse(await readFile('plans.example.json', 'utf8')));
    for (const plan of plans.plans) {
      const params = subscriptionParams(developer, 'default', 'cus_1', plan, 'price_1', 'checkout');
      expect(params.billing_mode, plan.id).toEqual({ type: 'flexible' });
      expect(params.metadata).toMatchObject({ kong_developer_id: developer.id, kong_workspace: 'default', plan: plan.id });
    }
  });
});
