/**
 * Pieces of the sandbox's wiring: the hosted signup's settings, and stripe:setup's customer portal
 * and webhook steps pointed at the sandbox provisioner (on a port known before it starts).
 */
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { setupCustomerPortal } from '../admin/stripe-setup/portal-setup.ts';
import { setupWebhookEndpoint } from '../admin/stripe-setup/webhook-setup.ts';
import { createStripeClient } from '../provisioner/stripe/stripe-client.ts';
import { loadPlansFile } from '../shared/plans.ts';
import { TEST_SERVICE_PATH } from '../sandbox/kong/gateway-entities.ts';
import type { RunningKongEmulator } from '../sandbox/kong/index.ts';
import { SANDBOX_KONNECT, SANDBOX_SIGNUP_SECRET, SANDBOX_STRIPE_KEY } from '../sandbox/sandbox-credentials.ts';
import type { RunningStripeEmulator } from '../sandbox/stripe/stripe-emulator.ts';

/** The provisioner's hosted-signup settings in the sandbox (and the Konnect-style Admin API base when asked). */
export function hostedSignupEnv(hosted: { smtpUrl: string; konnect?: boolean }, kong: RunningKongEmulator | undefined, provisionerPort: number): Record<string, string> {
  const publicUrl = `http://127.0.0.1:${provisionerPort}`;
  return {
    SIGNUP_MODE: 'hosted',
    SIGNUP_SECRET: SANDBOX_SIGNUP_SECRET,
    SMTP_URL: hosted.smtpUrl,
    SIGNUP_PUBLIC_URL: publicUrl,
    SIGNUP_PRODUCT_NAME: 'Sandbox API',
    // A refused consumer (402) is sent to the hosted account page: there is no portal dashboard.
    PORTAL_DASHBOARD_URL: `${publicUrl}/signup/account`,
    ...(kong ? { SIGNUP_API_URL: `${kong.proxyUrl}${TEST_SERVICE_PATH}` } : {}),
    ...(kong && hosted.konnect
      ? { KONG_ADMIN_URL: `${kong.adminUrl}/v2/control-planes/${SANDBOX_KONNECT.controlPlaneId}/core-entities`, KONG_ADMIN_TOKEN: SANDBOX_KONNECT.token }
      : {}),
  };
}

/** A port nobody listens on now (the provisioner's URL must be known before it starts: webhooks point at it). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** stripe:setup's own customer portal and webhook steps, pointed at the sandbox provisioner. */
export async function setupSandboxBilling(stripe: RunningStripeEmulator, env: Record<string, string>, port: number) {
  const provisionerPort = port === 0 ? await freePort() : port;
  const client = createStripeClient({ secretKey: SANDBOX_STRIPE_KEY, mode: 'test', apiBase: new URL(stripe.url), maxWritesPerSecond: 20 });
  const plans = await loadPlansFile(env.PLANS_FILE as string);
  const portal = await setupCustomerPortal(client, plans, { dryRun: false, returnUrl: env.PORTAL_DASHBOARD_URL });
  const webhookUrl = `http://127.0.0.1:${provisionerPort}/stripe/webhooks`;
  const webhook = await setupWebhookEndpoint(client, webhookUrl, { dryRun: false });
  // A fresh emulator always creates the endpoint, so the secret is in the answer.
  const webhookSecret = webhook.secret ?? (webhook.endpointId ? stripe.webhooks.secret(webhook.endpointId) : undefined);
  return { provisionerPort, webhookUrl, webhookSecret, portalLoginUrl: portal.loginUrl };
}
