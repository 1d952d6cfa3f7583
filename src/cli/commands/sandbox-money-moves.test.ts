// The sandbox's printed "money moves" commands, pasted as printed: the usage command line closes
// the open window and reports the calls (no ten-minute wait), the clock advance closes the period,
// and the invoice bills exactly the billable calls (a 401 with a bad key is not on it).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageCommandLine } from './start.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../../dev/start-sandbox.ts';

const run = promisify(execFile);
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ ports: FREE_PORTS, kongPropagationMs: 0, provisionerEnv: { PAYMENT_COLLECTION: 'none' } });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('sandbox money moves', () => {
  it('the printed usage line, then 32 days, make the invoice for the calls', { timeout: 60_000 }, async () => {
    const kong = sandbox.kong!;
    kong.state.addDeveloper('default', { email: 'money@example.com', status: 0, meta: { full_name: 'Money', plan: 'starter' }, key: 'k-money' });
    const outcome = await sandbox.provisioner!.provisioner.provisionDeveloper('money@example.com');
    await sandbox.provisioner!.moesif.flush();
    for (let i = 0; i < 6; i++) expect((await fetch(`${kong.proxyUrl}/test-service/x`, { headers: { apikey: 'k-money' } })).status).toBe(200);
    expect((await fetch(`${kong.proxyUrl}/test-service/x`, { headers: { apikey: 'wrong' } })).status).toBe(401);
    await kong.settle();

    const line = usageCommandLine(sandbox.env);
    expect(line).toMatch(/npm run --silent usage -- --once --close-open-window$/);
    const printed = await run('bash', ['-c', line], { cwd: process.cwd(), env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    expect(printed.stdout).toMatch(/\s6\s+sent/);
    const advanced = await fetch(`${sandbox.stripe!.url}/_emulator/time/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 32 * 86_400 }) });
    expect(advanced.status).toBe(200);
    const invoices = sandbox.stripe!.state.invoices.newestFirst().filter((invoice) => invoice.customer === outcome.customerId && invoice.billing_reason === 'subscription_cycle');
    expect(invoices.map((invoice) => invoice.lines.data.map((l) => l.quantity))).toEqual([[6]]);
    // The starter plan bills half a cent a call: 6 calls = 3 cents.
    expect(invoices[0]?.subtotal).toBe(3);
  });
});
