// The sandbox as `npm start` wires it: a developer provisioned by the real provisioner calls the
// API through the Kong emulator with a key; the product's usage reporter reads the Moesif
// emulator's Management API and bills the calls to the Stripe emulator's meter for the developer's
// customer, once. Moesif's own billing meter is an opt-in emulation, off by default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startSandbox, type Sandbox } from './start-sandbox.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  // Payment collection is not what this test is about: no card step, so the calls are allowed.
  sandbox = await startSandbox({ ports: FREE_PORTS, kongPropagationMs: 0, provisionerEnv: { PAYMENT_COLLECTION: 'none' } });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('sandbox usage billing', () => {
  it('bills proxied calls to the provisioned customer through the plans file meter, once', async () => {
    const kong = sandbox.kong!;
    kong.state.addDeveloper('default', { email: 'metered@example.com', status: 0, meta: { full_name: 'Metered' }, key: 'k-metered' });
    const outcome = await sandbox.provisioner!.provisioner.provisionDeveloper('metered@example.com');
    await sandbox.provisioner!.moesif.flush(); // the Moesif user and company are written in the background
    for (let i = 0; i < 4; i++) expect((await fetch(`${kong.proxyUrl}/test-service/x`, { headers: { apikey: 'k-metered' } })).status).toBe(200);

    const moesif = sandbox.moesif!;
    expect(moesif.billing()).toBeUndefined(); // Moesif's billing meter emulation is off
    expect(sandbox.env.USAGE_REPORTING).toBeUndefined(); // the provisioner reports (the default)
    await sandbox.reportUsage();
    await sandbox.reportUsage();
    const events = sandbox.stripe!.state.meterEvents.filter((e) => e.payload.stripe_customer_id === outcome.customerId);
    expect(events.map((e) => [e.event_name, e.payload.value])).toEqual([['api_calls', '4']]);
  });
});
