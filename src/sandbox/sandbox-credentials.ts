/**
 * The sandbox's own fake credentials, which of its variables are secrets, how its environment is
 * printed without them, and the refusal of Stripe live keys in every sandbox mode.
 */
import { SettingError } from '../shared/errors.ts';
import { PUBLISHED_SANDBOX_SECRETS } from '../shared/published-sandbox-secrets.ts';

/** Sandbox-only credentials. They open nothing outside this machine (the provisioner refuses them elsewhere). */
export const SANDBOX_STRIPE_KEY = PUBLISHED_SANDBOX_SECRETS.STRIPE_SECRET_KEY;
export const SANDBOX_MOESIF_APP_ID = 'sandbox-moesif-application-id';
export const SANDBOX_EVENT_HOOK_SECRET = PUBLISHED_SANDBOX_SECRETS.KONG_EVENT_HOOK_SECRET;
export const SANDBOX_READYZ_TOKEN = PUBLISHED_SANDBOX_SECRETS.READYZ_TOKEN;
export const SANDBOX_LOG_HASH_KEY = PUBLISHED_SANDBOX_SECRETS.LOG_HASH_KEY;
export const SANDBOX_SIGNUP_SECRET = PUBLISHED_SANDBOX_SECRETS.SIGNUP_SECRET;
export const SANDBOX_MOESIF_MANAGEMENT_TOKEN = 'sandbox-moesif-management-token-0000';
/** Fake AWS credentials the API Gateway emulator verifies SigV4 against (they open nothing at AWS). */
export const SANDBOX_AWS = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-aws-secret-access-key-000000000000', region: 'us-east-1' } as const;
export const SANDBOX_KONNECT = { controlPlaneId: '5f1e7a52-0000-4000-8000-000000000001', token: 'kpat_sandbox000000000000000000000000000000000000' };

/** Variables whose values are secrets: printed only when they hold the sandbox's own fakes. */
const SECRET_VARIABLES = ['STRIPE_SECRET_KEY', 'KONG_ADMIN_TOKEN', 'KONG_EVENT_HOOK_SECRET', 'MOESIF_APPLICATION_ID', 'READYZ_TOKEN', 'LOG_HASH_KEY', 'STRIPE_WEBHOOK_SECRET', 'SIGNUP_SECRET', 'SMTP_URL', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'MOESIF_MANAGEMENT_TOKEN'] as const;
const SANDBOX_FAKES = new Set<string>([SANDBOX_STRIPE_KEY, SANDBOX_MOESIF_APP_ID, SANDBOX_EVENT_HOOK_SECRET, SANDBOX_READYZ_TOKEN, SANDBOX_LOG_HASH_KEY, SANDBOX_SIGNUP_SECRET, SANDBOX_KONNECT.token, SANDBOX_AWS.secretAccessKey, SANDBOX_MOESIF_MANAGEMENT_TOKEN]);

/**
 * The sandbox environment as `NAME=value` pairs safe to print: a secret that is not one of the
 * sandbox's fixed fakes or a secret one of its emulators made (`emulatorSecrets`: the Stripe
 * emulator's webhook secret) is shown as a reference to the variable (`"$NAME"`), never its value.
 */
export function printableEnv(env: Record<string, string>, emulatorSecrets: readonly string[] = []): Array<[string, string]> {
  // An SMTP URL without user:password@ (the sandbox's mail catcher) carries no secret.
  const harmless = (name: string, value: string) => SANDBOX_FAKES.has(value) || emulatorSecrets.includes(value) || (name === 'SMTP_URL' && !value.includes('@'));
  return Object.entries(env).map(([name, value]) =>
    (SECRET_VARIABLES as readonly string[]).includes(name) && !harmless(name, value) ? [name, `"$${name}"`] : [name, value],
  );
}

/** Stripe live-mode keys (sk_live_, rk_live_, pk_live_...) open real money: the sandbox never takes one. */
const LIVE_KEY = /^[a-z]{2}_live_/;

/** No *_live_* Stripe key is used by the sandbox, whatever the mode; the message never shows the key. */
export function refuseLiveKeys(env: NodeJS.ProcessEnv, overrides: Record<string, string> | undefined): void {
  for (const [source, value] of [
    ['STRIPE_SECRET_KEY', env.STRIPE_SECRET_KEY],
    ['provisionerEnv.STRIPE_SECRET_KEY', overrides?.STRIPE_SECRET_KEY],
  ] as const) {
    if (value !== undefined && LIVE_KEY.test(value.trim()))
      throw new SettingError(source, 'is a Stripe live-mode key; the sandbox never uses live keys', 'unset it in this shell (the emulator needs no key) or use a test-mode key with --stripe real');
  }
}
