// A developer edits their own account in the portal, through the portal API routes Kong's portal
// app calls (PATCH /developer/email, PUT /developer/meta). Kong fires the developers event hook for
// each update; the provisioner must follow the same developer, never create a second customer or
// subscription for them.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../sandbox/kong/index.ts';
import { startBillingSandbox, type BillingSandbox, type SignedUp } from '../testkit/billing-sandbox.ts';

let billing: BillingSandbox;
let stripe: Stripe;

beforeAll(async () => {
  billing = await startBillingSandbox({ provisionerEnv: { PAYMENT_COLLECTION: 'none' } });
  ({ stripe } = billing);
});
afterAll(async () => {
  await billing?.close();
});

/** The portal API as the logged-in developer (a session the portal's login would have set). */
function asDeveloper(signedUp: SignedUp) {
  const kong = billing.sandbox.kong!;
  const session = kong.state.createSession('default', signedUp.developer.id);
  return (method: string, path: string, body: unknown) =>
    fetch(`${kong.portalApiUrl}/default${path}`, {
      method,
      headers: { 'content-type': 'application/json', cookie: `${SESSION_COOKIE}=${session.id}` },
      body: JSON.stringify(body),
    });
}

/** Every customer and live subscription Stripe holds for this Kong developer. */
async function stripeObjectsOf(developerId: string) {
  const customers = (await stripe.customers.list({ limit: 100 })).data.filter((c) => c.metadata.kong_developer_id === developerId);
  const subscriptions = (await Promise.all(customers.map((c) => stripe.subscriptions.list({ customer: c.id, status: 'all' })))).flatMap((list) => list.data);
  return { customers, subscriptions };
}

/** What the page does on every dashboard visit: the proven provision call. */
async function provision(email: string, developerId: string): Promise<number> {
  const response = await fetch(`${billing.sandbox.provisioner!.url}/provision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, developer_id: developerId }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('a developer changes their own account in the portal', () => {
  it('a new email keeps the one Stripe customer (event hook and the next page visit alike)', async () => {
    const signedUp = await billing.signUp('starter', 'mover');
    const before = await stripeObjectsOf(signedUp.developer.id);
    expect(before.customers.map((c) => c.id)).toEqual([signedUp.customer.id]);

    const newEmail = `moved-${signedUp.email}`;
    const changed = await asDeveloper(signedUp)('PATCH', '/developer/email', { email: newEmail });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { email: string }).email).toBe(newEmail);
    await billing.settle();
    // Kong fired the developers event hook for the portal's own update.
    const deliveries = billing.sandbox.kong!.state.hookDeliveries.filter((d) => d.event === 'developers' && d.operation === 'update' && d.body.includes(newEmail));
    expect(deliveries.map((d) => d.status)).toEqual([200]);

    expect(await provision(newEmail, signedUp.developer.id)).toBe(200);
    await billing.settle();
    const after = await stripeObjectsOf(signedUp.developer.id);
    expect(after.customers.map((c) => c.id)).toEqual([signedUp.customer.id]);
    // The customer follows the new email, and calls (Moesif user = the consumer's new username) stay on the same company.
    expect(after.customers[0]?.email).toBe(newEmail);
    await billing.sandbox.provisioner!.moesif.flush();
    expect(billing.sandbox.moesif!.store.users.get(newEmail)?.company_id).toBe(after.subscriptions[0]?.id);
    expect(after.subscriptions.map((s) => s.id)).toEqual(before.subscriptions.map((s) => s.id));
  });

  it('a plan edit through PUT /developer/meta creates no customer and no subscription', async () => {
    const signedUp = await billing.signUp('starter', 'planner');
    const before = await stripeObjectsOf(signedUp.developer.id);
    expect(before.subscriptions).toHaveLength(1);

    const edited = await asDeveloper(signedUp)('PUT', '/developer/meta', { meta: JSON.stringify({ full_name: 'Planner One', plan: 'growth' }) });
    expect(edited.status).toBe(200);
    await billing.settle();
    expect(await provision(signedUp.email, signedUp.developer.id)).toBe(200);
    await billing.settle();

    const after = await stripeObjectsOf(signedUp.developer.id);
    expect(after.customers.map((c) => c.id)).toEqual(before.customers.map((c) => c.id));
    expect(after.subscriptions.map((s) => s.id)).toEqual(before.subscriptions.map((s) => s.id));
  });
});
