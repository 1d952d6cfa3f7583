/**
 * The sandbox on free ports for the benches, with provisioner variables the defaults don't set
 * (e.g. STRIPE_MAX_WRITES_PER_SECOND) and no per-address rate limit: all bench load comes from 127.0.0.1.
 */
import type { RunningProvisioner } from '../../src/provisioner/server.ts';
import type { ProvisionerSettings } from '../../src/provisioner/settings/settings.ts';
import { FREE_PORTS, startSandbox, type Sandbox, type SandboxOptions } from '../../src/dev/start-sandbox.ts';

interface BenchSandbox {
  sandbox: Sandbox;
  settings: ProvisionerSettings;
  provisioner: RunningProvisioner;
  close(): Promise<void>;
}

export async function startBenchSandbox(options: {
  sandbox?: Omit<SandboxOptions, 'ports' | 'services' | 'provisionerEnv'>;
  /** Extra provisioner variables, e.g. STRIPE_MAX_WRITES_PER_SECOND. */
  provisionerEnv?: Record<string, string>;
}): Promise<BenchSandbox> {
  const sandbox = await startSandbox({
    provisionRateLimitPerMinute: 1_000_000,
    ...options.sandbox,
    ports: FREE_PORTS,
    eventHook: false,
    ...(options.provisionerEnv ? { provisionerEnv: options.provisionerEnv } : {}),
  });
  return { sandbox, settings: sandbox.provisionerSettings!, provisioner: sandbox.provisioner!, close: () => sandbox.close() };
}

/** POST /provision as the browser does (the email and Kong's developer id as the proof); returns status and ms. */
export async function postProvision(provisionerUrl: string, email: string, developerId: string): Promise<{ status: number; ms: number; body: unknown }> {
  const started = performance.now();
  const response = await fetch(`${provisionerUrl}/provision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, developer_id: developerId }),
  });
  const body: unknown = await response.json().catch(() => undefined);
  return { status: response.status, ms: performance.now() - started, body };
}
