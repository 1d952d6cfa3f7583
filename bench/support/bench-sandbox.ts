/**
 * The sandbox emulators on free ports plus a provisioner we start ourselves (the real server,
 * from the same settings loader), so a bench can set provisioner variables the sandbox does not
 * expose, such as STRIPE_MAX_WRITES_PER_SECOND.
 */
import { silentLogger } from '../../src/provisioner/provision-log.ts';
import { startProvisioner, type RunningProvisioner } from '../../src/provisioner/server.ts';
import { loadProvisionerSettings, type ProvisionerSettings } from '../../src/provisioner/settings.ts';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/start-sandbox.ts';
import { FREE_PORTS } from './free-ports.ts';

export interface BenchSandbox {
  sandbox: Sandbox;
  settings: ProvisionerSettings;
  provisioner: RunningProvisioner;
  close(): Promise<void>;
}

export async function startBenchSandbox(options: {
  sandbox?: Omit<SandboxOptions, 'ports' | 'services'>;
  /** Extra provisioner variables, e.g. STRIPE_MAX_WRITES_PER_SECOND. */
  provisionerEnv?: Record<string, string>;
}): Promise<BenchSandbox> {
  const sandbox = await startSandbox({ ...options.sandbox, ports: FREE_PORTS, services: ['kong', 'stripe', 'moesif'], eventHook: false });
  try {
    const settings = await loadProvisionerSettings({
      ...sandbox.env,
      PROVISIONER_PORT: '0',
      PROVISION_RATE_LIMIT_PER_MINUTE: '1000000',
      ...options.provisionerEnv,
    });
    const provisioner = await startProvisioner(settings, { port: 0, logger: silentLogger });
    return {
      sandbox,
      settings,
      provisioner,
      async close() {
        await provisioner.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** POST /provision as the browser does (JSON body with the email only); returns status and ms. */
export async function postProvision(provisionerUrl: string, email: string): Promise<{ status: number; ms: number; body: unknown }> {
  const started = performance.now();
  const response = await fetch(`${provisionerUrl}/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  const body: unknown = await response.json().catch(() => undefined);
  return { status: response.status, ms: performance.now() - started, body };
}
