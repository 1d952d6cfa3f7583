#!/usr/bin/env node
// `npm test`: typecheck, lint, build check, unit/integration tests, browser tests, in that order.
// Stops at the first failing stage and says which one failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH || ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
if (!chromium) {
  console.error("npm test needs Chromium for the browser tests. Install Debian's package: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH). `bash .ci/run` does this for you.");
  process.exit(1);
}

const stages = [
  ['typecheck', ['npx', 'tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['lint', ['npx', 'eslint', '.']],
  ['build (deterministic, no secrets, theme/ up to date)', ['node', 'scripts/portal-monetization.mjs', 'build', '--check']],
  ['unit and integration tests (vitest)', ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=node_modules/.cache/test-summary/vitest.json']],
  ['browser tests (playwright)', ['npx', 'playwright', 'test', '--reporter=list,json']],
];
mkdirSync('node_modules/.cache/test-summary', { recursive: true });
// Playwright's json reporter writes where this variable says; the summary below reads both files.
process.env.PLAYWRIGHT_JSON_OUTPUT_NAME = 'node_modules/.cache/test-summary/playwright.json';

for (const [name, [cmd, ...args]] of stages) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\nnpm test: stage "${name}" failed (exit ${result.status ?? result.signal}) after ${seconds}s`);
    process.exit(result.status || 1);
  }
  console.log(`--- ${name}: ok (${seconds}s)`);
}
console.log('\nnpm test: all stages passed');
const counts = { passed: 0, failed: 0, skipped: 0 };
try {
  const vitest = JSON.parse(readFileSync('node_modules/.cache/test-summary/vitest.json', 'utf8'));
  counts.passed += vitest.numPassedTests;
  counts.failed += vitest.numFailedTests;
  counts.skipped += vitest.numPendingTests + vitest.numTodoTests;
  const playwright = JSON.parse(readFileSync('node_modules/.cache/test-summary/playwright.json', 'utf8'));
  counts.passed += playwright.stats.expected;
  counts.failed += playwright.stats.unexpected;
  counts.skipped += playwright.stats.skipped;
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
} catch (error) {
  console.log(`(no test count summary: ${error.message})`);
}
