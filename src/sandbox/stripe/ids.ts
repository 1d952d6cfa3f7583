/** Object ids shaped like Stripe's: a type prefix and a random base62 tail. */
import { randomInt } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function tail(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += BASE62[randomInt(BASE62.length)];
  return out;
}

export const newId = {
  customer: () => `cus_${tail(14)}`,
  product: () => `prod_${tail(14)}`,
  price: () => `price_1${tail(23)}`,
  subscription: () => `sub_1${tail(23)}`,
  subscriptionItem: () => `si_${tail(14)}`,
  meter: () => `mtr_test_${tail(32)}`,
  meterEventIdentifier: () => `mev_${tail(24)}`,
  webhookEndpoint: () => `we_1${tail(23)}`,
  paymentMethod: () => `pm_1${tail(23)}`,
  invoice: () => `in_1${tail(23)}`,
  paymentIntent: () => `pi_3${tail(23)}`,
  invoiceLineItem: () => `il_1${tail(23)}`,
  testClock: () => `clock_1${tail(23)}`,
  checkoutSession: () => `cs_test_${tail(58)}`,
  setupIntent: () => `seti_1${tail(23)}`,
  portalConfiguration: () => `bpc_1${tail(23)}`,
  portalSession: () => `bps_1${tail(23)}`,
  secret: (length = 24) => tail(length),
  request: () => `req_${tail(14)}`,
  invoicePrefix: () => tail(8).toUpperCase().replace(/[^0-9A-F]/g, (c) => 'ABCDEF'[c.charCodeAt(0) % 6] ?? 'A'),
};
