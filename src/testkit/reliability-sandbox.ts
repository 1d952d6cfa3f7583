/**
 * The sandbox the reliability suite runs against: Kong, Stripe and Moesif emulators on free
 * ports with short hang times, and provisioner settings read from the sandbox's environment by
 * the provisioner's own loader. Timeouts and backoffs are shortened through the provisioner's
 * options so that a fault costs milliseconds, not the production seconds.
 */
import type { CoreOptions } from '../provisioner/compose.ts';
import { loadProvisionerSettings, type ProvisionerSettings } from '../provisioner/settings/settings.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../dev/start-sandbox.ts';
import type { RunningMoesifEmulator } from '../sandbox/moesif/moesif-emulator.ts';
import type { RunningKongEmulator } from '../sandbox/kong/index.ts';
import type { RunningStripeEmulator } from '../sandbox/stripe/stripe-emulator.ts';

/** Short but realistic: a Stripe call that hangs is abandoned by the client after 500 ms. */
export const FAST_PROVISIONER: CoreOptions = {
  stripeClient: { timeoutMs: 500, maxNetworkRetries: 2 },
  stripeRetry: { baseDelayMs: 20, maxDelayMs: 200 },
  moesifAttempts: 2,
  moesifBaseDelayMs: 20,
  moesifSync: { retryBaseMs: 100, retryMaxMs: 400 },
};

export interface ReliabilitySandbox {
  sandbox: Sandbox;
  kong: RunningKongEmulator;
  stripe: RunningStripeEmulator;
  moesif: RunningMoesifEmulator;
  /** Environment for a provisioner process or a CLI pointed at this sandbox. */
  env: Record<string, string>;
  settings: ProvisionerSettings;
  close(): Promise<void>;
}

export async function startReliabilitySandbox(): Promise<ReliabilitySandbox> {
  const sandbox = await startSandbox({
    ports: FREE_PORTS,
    services: ['kong', 'stripe', 'moesif'],
    eventHook: false,
    kongPropagationMs: 0,
    // Stripe 'timeout' faults hang until the client gives up (500 ms); Moesif's client timeout is
    // fixed at 5 s, so its 'timeout' faults hang 250 ms and then drop the connection.
    stripeEmulator: { hangMs: 5_000 },
    moesifEmulator: { hangMs: 250 },
  });
  const env = { ...sandbox.env, PROVISIONER_PORT: '0', PROVISION_RATE_LIMIT_PER_MINUTE: '100000' };
  const settings = await loadProvisionerSettings(env);
  return { sandbox, kong: sandbox.kong!, stripe: sandbox.stripe!, moesif: sandbox.moesif!, env, settings, close: () => sandbox.close() };
}

/**
 * POST /provision with the browser's body (the email and, when given, Kong's developer id as the
 * proof); never throws (a dropped connection is status 0).
 */
export async function provisionOverHttp(url: string, email: string, developerId?: string): Promise<{ status: number; body: unknown }> {
  try {
    const body = developerId ? { email, developer_id: developerId } : { email };
    const response = await fetch(`${url}/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  } catch (error) {
    return { status: 0, body: { dropped: (error as Error).message } };
  }
}
