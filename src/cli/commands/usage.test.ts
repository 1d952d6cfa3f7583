// `portal-monetization usage` against the emulators: --once sends each customer's window once
// (a second run sends nothing new), --dry-run sends nothing, --report shows Moesif, Stripe and the
// difference per developer, and bad flags or settings exit 2 naming them.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logCalls, meteredSubscription, MGMT_TOKEN, moveTo, startUsageWorld, stripeTotal, type UsageWorld } from '../../testkit/usage-test-kit.ts';
import { runUsageCommand } from '../../admin/usage/usage-command.ts';

let world: UsageWorld;
let env: NodeJS.ProcessEnv;
let customerId: string;

beforeAll(async () => {
  world = await startUsageWorld({ startMs: Date.now() });
  env = { STRIPE_SECRET_KEY: 'sk_test_usage_command', STRIPE_API_BASE: world.stripeEmulator.url, MOESIF_MANAGEMENT_TOKEN: MGMT_TOKEN, MOESIF_MANAGEMENT_API_BASE: world.moesif.url };
  const { customer } = await meteredSubscription(world, 'cli@example.com');
  customerId = customer.id;
  const twoHoursAgo = Date.now() - 2 * 3_600_000;
  await logCalls(world, 'cli@example.com', twoHoursAgo, [200, 200, 200, 402, 401]);
});
afterAll(async () => {
  await world?.close();
});

async function run(argv: string[], environment = env): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
  const error = vi.spyOn(console, 'error').mockImplementation((line: unknown) => void err.push(String(line)));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (err.push(String(chunk)), true));
  try {
    const code = await runUsageCommand(argv, environment).catch(async (e: unknown) => (await import('../report-error.ts')).reportFatal(e));
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    stderr.mockRestore();
  }
}

describe('usage command', () => {
  it('--dry-run sends nothing; --once sends the window once; a second --once sends nothing new', async () => {
    const dry = await run(['--once', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would_send');
    expect(stripeTotal(world, customerId)).toBe(0);
    const first = await run(['--once']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(new RegExp(`${customerId}\\s+3\\s+sent`));
    expect(stripeTotal(world, customerId)).toBe(3);
    const second = await run(['--once']);
    expect(second.code).toBe(0);
    expect(stripeTotal(world, customerId)).toBe(3);
  });

  it('--report prints calls in Moesif, reported to Stripe and the difference per developer', async () => {
    const report = await run(['--report']);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/developer\s+calls in Moesif\s+reported to Stripe\s+difference/);
    expect(report.out).toMatch(/cli@example\.com\s+3\s+3\s+0/);
  });

  it('refuses bad flags and settings with exit 2, naming them', async () => {
    expect((await run(['--from', 'yesterday', '--to', '2026-12-01T00:00:00Z'])).err).toContain('--from must be an ISO time');
    const moesifMode = await run(['--once'], { ...env, USAGE_REPORTING: 'moesif' });
    expect([moesifMode.code, moesifMode.err]).toEqual([2, expect.stringContaining('USAGE_REPORTING')]);
    const noToken = await run(['--once'], { ...env, MOESIF_MANAGEMENT_TOKEN: '' });
    expect([noToken.code, noToken.err]).toEqual([2, expect.stringContaining('MOESIF_MANAGEMENT_TOKEN')]);
    const badStatus = await run(['--once'], { ...env, BILLABLE_STATUS: '402' });
    expect([badStatus.code, badStatus.err]).toEqual([2, expect.stringContaining('BILLABLE_STATUS')]);
    expect(stripeTotal(world, customerId)).toBe(3);
  });

  it('--from/--to backfills a past window once; run again once Stripe forgot the identifiers (24 h), it checks Stripe first and sends nothing', async () => {
    const hour = 3_600_000;
    const windowStart = Math.floor((Date.now() - 2 * 24 * hour) / hour) * hour;
    await logCalls(world, 'cli@example.com', windowStart + 10 * 60_000, [200, 200, 429]);
    const before = stripeTotal(world, customerId);
    const range = ['--from', new Date(windowStart).toISOString(), '--to', new Date(windowStart + hour).toISOString()];
    const first = await run(range);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(new RegExp(`${customerId}\\s+2\\s+sent`));
    expect(stripeTotal(world, customerId)).toBe(before + 2);
    // A day on for Stripe (the last test of the file: the shared clock moves): the identifiers no longer dedupe.
    moveTo(world, world.clock.ms + 25 * hour);
    const again = await run(range);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(new RegExp(`${customerId}\\s+2\\s+already_delivered`));
    expect(stripeTotal(world, customerId)).toBe(before + 2);
  });
});
