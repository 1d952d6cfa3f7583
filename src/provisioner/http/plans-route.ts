/** GET /plans: the plans a developer may pick, with their Stripe prices, answered from memory for a few minutes. */
import type { Hono } from 'hono';
import { defaultPlan, selectablePlans, type PlansFile } from '../../shared/plans.ts';
import type { PlansResponse } from '../../shared/provisioner-api.ts';
import { resolvePlans, toPublicPlans, type PriceResolver } from '../core/plan-prices.ts';

export function mountPlansRoute(app: Hono, options: { plans: PlansFile; prices: PriceResolver; cacheMs: number }): void {
  const { plans, prices, cacheMs } = options;
  let cache: { at: number; body: Promise<PlansResponse> } | undefined;
  app.get('/plans', async (c) => {
    const now = Date.now();
    if (!cache || now - cache.at >= cacheMs) {
      // The picker offers what a developer may choose: private plans (invoice, free) are assigned by the admin.
      const body = resolvePlans({ ...plans, plans: selectablePlans(plans) }, prices).then((resolved) => ({ plans: toPublicPlans(resolved, defaultPlan(plans)?.id) }));
      const entry = { at: now, body };
      cache = entry;
      body.catch(() => {
        if (cache === entry) cache = undefined;
      });
    }
    const body = await cache.body;
    c.header('cache-control', `public, max-age=${Math.floor(cacheMs / 1000)}`);
    return c.json(body);
  });
}
