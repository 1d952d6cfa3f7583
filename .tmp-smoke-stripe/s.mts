import Stripe from 'stripe';
import { startStripeEmulator } from '/work/main/src/sandbox/stripe/stripe-emulator.ts';
const emu = await startStripeEmulator();
const stripe = new Stripe('sk_test_123', { ...emu.clientOptions, maxNetworkRetries: 0 });
try {
  const c = await stripe.customers.create({ email: 'a@b.c', name: 'A', metadata: { x: '1' } });
  console.log(c.id, c.email);
  const list = await stripe.customers.list({ email: 'a@b.c' });
  console.log(list.data.length);
  const meter = await stripe.billing.meters.create({ display_name: 'calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' } });
  const prod = await stripe.products.create({ name: 'API' });
  const price = await stripe.prices.create({ currency: 'usd', product: prod.id, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id }, billing_scheme: 'tiered', tiers_mode: 'graduated', tiers: [{ up_to: 1000, unit_amount_decimal: '0.5' }, { up_to: 'inf', unit_amount: 0 }], lookup_key: 'basic' });
  console.log(price.id, price.tiers);
  const prices = await stripe.prices.list({ lookup_keys: ['basic'], expand: ['data.tiers'] });
  console.log(JSON.stringify(prices.data[0]?.tiers));
  const sub = await stripe.subscriptions.create({ customer: c.id, items: [{ price: price.id }], metadata: { email: 'a@b.c' } });
  console.log(sub.id, sub.status, sub.items.data[0]?.price.id);
  try { await stripe.customers.retrieve('cus_nope'); } catch (e) { console.log((e as any).type, (e as any).statusCode, (e as any).code, (e as any).param); }
  try { await stripe.subscriptions.create({ customer: 'cus_nope', items: [{ price: price.id }] }); } catch (e) { console.log((e as any).type, (e as any).statusCode, (e as any).code, (e as any).param, (e as any).message); }
  try { await stripe.prices.create({ currency: 'usd', product: prod.id, unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' } }); } catch (e) { console.log((e as any).statusCode, (e as any).code, (e as any).param, (e as any).message); }
  try { await stripe.customers.create({ foo: 1 } as any); } catch (e) { console.log((e as any).statusCode, (e as any).code, (e as any).param, (e as any).message); }
  const bad = new Stripe('sk_live_xx', { ...emu.clientOptions });
  try { await bad.customers.list(); } catch (e) { console.log((e as any).type, (e as any).statusCode, (e as any).message); }
  console.log(emu.counters.snapshot());
} finally { await emu.close(); }
