// `reconcile` as cron runs it: its own OS process (the CLI entry), against emulators started
// here, with more Stripe writes queued than the write limiter's burst. In-process tests cannot
// see this: vitest's own handles keep the event loop alive while writes wait for a token.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKongEmulator, type RunningKongEmulator } from '../../sandbox/kong/index.ts';
import { startMoesifEmulator, type RunningMoesifEmulator } from '../../sandbox/moesif/moesif-emulator.ts';
import { startStripeEmulator, type RunningStripeEmulator } from '../../sandbox/stripe/stripe-emulator.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { setupStripeCatalog } from '../stripe-setup/catalog-setup.ts';

const CLI = fileURLToPath(new URL('../../../scripts/portal-monetization.mjs', import.meta.url));

let kong: RunningKongEmulator;
let stripeEmulator: RunningStripeEmulator;
let moesif: RunningMoesifEmulator;
let stripe: Stripe;

beforeAll(async () => {
  [kong, stripeEmulator, moesif] = await Promise.all([startKongEmulator(), startStripeEmulator(), startMoesifEmulator({ applicationIds: ['app-good'] })]);
  stripe = new Stripe('sk_test_emulator', { ...stripeEmulator.clientOptions, maxNetworkRetries: 0 });
  await setupStripeCatalog(stripe, await loadPlansFile('plans.example.json'));
});
afterAll(async () => {
  await Promise.all([kong.close(), stripeEmulator.close(), moesif.close()]);
});

function runCli(args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    // The sources under test, not a dist/ build that may be older.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', PORTAL_MONETIZATION_CODE: 'sources', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`reconcile did not end within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('reconcile as its own process', () => {
  it('25 developers who signed up while the provisioner was down (more writes than the limiter\'s burst): exit 0, every one whole', async () => {
    const workspace = 'cron';
    kong.state.createWorkspace(workspace);
    kong.state.patchWorkspaceConfig(workspace, { portal: true });
    const emails = Array.from({ length: 25 }, (_, i) => `down-${i}@example.com`);
    for (const email of emails) kong.state.addDeveloper(workspace, { email, status: 0, meta: { full_name: email.split('@')[0] } });

    const result = await runCli(['reconcile', '--workspace', workspace], {
      STRIPE_SECRET_KEY: 'sk_test_emulator',
      STRIPE_API_BASE: stripeEmulator.url,
      MOESIF_APPLICATION_ID: 'app-good',
      MOESIF_API_BASE: moesif.url,
      KONG_ADMIN_URL: kong.adminUrl,
      PLANS_FILE: 'plans.example.json',
    });

    expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/fixed:\s+25/);
    for (const email of emails) {
      const customers = (await stripe.customers.list({ email })).data;
      expect(customers, email).toHaveLength(1);
      const subscriptions = (await stripe.subscriptions.list({ customer: customers[0]!.id })).data;
      expect(subscriptions, email).toHaveLength(1);
    }
  });
});
