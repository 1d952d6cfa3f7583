/** POST /billing/spend-cap (issue 21): the developer's spend cap, with the same proof as POST /provision; the billing status back. */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { parseSpendCap } from '../core/spend-cap.ts';
import type { BillingCore } from '../wiring/billing-wiring.ts';
import { errorJson, fail, parseJson, requireJson, type BrowserRouteGuards } from './middleware.ts';
import { PROVISION_BODY_LIMIT, provisionBody } from './provision-route.ts';

/** The proof of POST /provision, and the cap in cents (null removes it; checked by parseSpendCap). */
const spendCapBody = provisionBody.required({ developer_id: true }).extend({ spend_cap: z.unknown() });

export function mountSpendCapRoute(app: Hono, deps: { kong: Pick<KongAdminClient, 'getDeveloper'>; billing: Pick<BillingCore, 'billing' | 'setSpendCap'>; guards: BrowserRouteGuards }): void {
  const { kong, billing, guards } = deps;
  app.post(
    '/billing/spend-cap',
    guards.refuseOtherOrigins,
    requireJson,
    guards.limitPerAddress('too many requests from this address; retry in a minute'),
    bodyLimit({ maxSize: PROVISION_BODY_LIMIT, onError: (c) => errorJson(c, 'payload_too_large', 413, `the body is larger than ${PROVISION_BODY_LIMIT} bytes`) }),
    async (c) => {
      const parsed = spendCapBody.safeParse(parseJson(await c.req.text()));
      if (!parsed.success) fail(parsed.error.issues[0]?.path[0] === 'email' ? 'invalid_email' : 'invalid_proof', 400, parsed.error.issues[0]?.message ?? 'bad request');
      const cap = parseSpendCap(parsed.data.spend_cap);
      const developer = await kong.getDeveloper(parsed.data.developer_id);
      if (!developer || developer.email.trim().toLowerCase() !== parsed.data.email.trim().toLowerCase())
        fail('invalid_proof', 403, 'developer_id and email do not name one developer; sign in to the portal again');
      return c.json(await billing.billing.fromOutcome(await billing.setSpendCap(developer, cap)));
    },
  );
}
