import { defineConfig } from 'vitest/config';

// Unit and integration tests live beside the code as *.test.ts (scripts/docs has the docs checks). Servers they start bind to
// 127.0.0.1 on free ports; two cores, so keep parallelism modest.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['src/**/*.live.test.ts', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
