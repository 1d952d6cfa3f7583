/**
 * The fake secrets the sandbox (`npm start`) runs with. They are published (README, the export
 * line npm start prints, this repository), so they protect nothing: the sandbox uses them, and the
 * provisioner refuses them anywhere else (provisioner/settings/production-guard.ts). One list for both, so
 * the product need not import the sandbox to know them.
 */
export const PUBLISHED_SANDBOX_SECRETS = {
  /** Only the Stripe emulator takes it; real Stripe refuses it. */
  STRIPE_SECRET_KEY: 'sk_test_sandbox0000000000000000',
  KONG_EVENT_HOOK_SECRET: 'sandbox-event-hook-secret-0000',
  READYZ_TOKEN: 'sandbox-readyz-token-00000000',
  LOG_HASH_KEY: 'sandbox-log-hash-key-000000000',
  SIGNUP_SECRET: 'sandbox-signup-secret-000000000000000000',
} as const;
