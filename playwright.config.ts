import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_HINT, findChromium } from './e2e/chromium.ts';

const executablePath = findChromium();
if (!executablePath) throw new Error(CHROMIUM_HINT);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  timeout: 60_000,
  workers: 1,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: { executablePath, args: CHROMIUM_ARGS },
  },
});
