// The billing panel's figures: calls and amount so far come from Stripe's invoice preview for the
// subscription, only for a proven request, cached per developer; the amount equals the invoice
// Stripe then finalizes for the period.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_PORTS, startSandbox, type Sandbox } from '../../dev/start-sandbox.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ ports: FREE_PORTS, kongPropagationMs: 0, provisionerEnv: { PAYMENT_COLLECTION: 'none' }, stripeEmulator: { meterAggregationLagMs: 200 } });
});
afterAll(async () => {
  await sandbox?.close();
});

const provision = (body: object) => fetch(`${sandbox.provisioner!.url}/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const previews = () => sandbox.stripe!.counters.snapshot().requests['POST /v1/invoices/create_preview'] ?? 0;

describe('usage and amount so far on the billing panel', () => {
  it('shows Stripe’s preview for a proven request, and the amount is what the invoice bills', async () => {
    const kong = sandbox.kong!;
    const developer = kong.state.addDeveloper('default', { email: 'panel@example.com', status: 0, meta: { full_name: 'Panel', plan: 'growth' }, key: 'k-panel' });
    await sandbox.provisioner!.provisioner.provisionDeveloper('panel@example.com');
    await sandbox.provisioner!.moesif.flush();
    for (let i = 0; i < 7; i++) expect((await fetch(`${kong.proxyUrl}/test-service/x`, { headers: { apikey: 'k-panel' } })).status).toBe(200);
    expect((await fetch(`${kong.proxyUrl}/test-service/x`, { headers: { apikey: 'nope' } })).status).toBe(401);
    await sandbox.reportUsage();
    await new Promise((resolve) => setTimeout(resolve, 250)); // Stripe's aggregation lag (the emulator's knob)

    const unproven = await provision({ email: 'panel@example.com', developer_id: crypto.randomUUID() });
    expect(await unproven.json()).toEqual({ status: 'accepted' });
    const answer = (await (await provision({ email: 'panel@example.com', developer_id: developer.id })).json()) as { billing?: { usage?: { calls: number; amount_due: number; summary: string } } };
    const usage = answer.billing?.usage;
    // Growth is graduated: calls 1-100 at $5.00.
    expect(usage).toMatchObject({ calls: 7, amount_due: 3500, currency: 'usd' });
    expect(usage?.summary).toMatch(/^This period so far: 7 billable calls, \$35\.00\. Next invoice on \d{4}-\d{2}-\d{2}\.$/);
    // A reload within the cache time reads nothing new from Stripe.
    const before = previews();
    expect(before).toBeGreaterThan(0);
    await provision({ email: 'panel@example.com', developer_id: developer.id });
    expect(previews()).toBe(before);

    const advanced = await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 32 * 86_400 }) });
    expect(advanced.status).toBe(200);
    const invoice = sandbox.stripe!.state.invoices.newestFirst().find((i) => i.billing_reason === 'subscription_cycle' && i.lines.data.some((l) => l.quantity === 7));
    expect([invoice?.status, invoice?.amount_due]).toEqual([expect.not.stringMatching(/^draft$/), usage?.amount_due]);
  });
});
