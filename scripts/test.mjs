#!/usr/bin/env node
// `npm test`: typecheck, lint, build check, unit/integration tests, browser tests, in that order.
// Stops at the first failing stage and says which one failed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH || ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
if (!chromium) {
  console.error("npm test needs Chromium for the browser tests. Install Debian's package: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH). `bash .ci/run` does this for you.");
  process.exit(1);
}

const stages = [
  ['typecheck', ['npx', 'tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['lint', ['npx', 'eslint', '.']],
  ['build (deterministic, no secrets, theme/ up to date)', ['node', 'scripts/portal-monetization.mjs', 'build', '--check']],
  ['unit and integration tests (vitest)', ['npx', 'vitest', 'run']],
  ['browser tests (playwright)', ['npx', 'playwright', 'test']],
];

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
