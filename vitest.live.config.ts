import { defineConfig } from 'vitest/config';

// Real Stripe test mode; each live test skips itself unless STRIPE_SECRET_KEY is an sk_test_ key.
export default defineConfig({
  test: { include: ['src/**/*.live.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
