import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const GUARD = new URL('./exit-guard.ts', import.meta.url).href;

/** A Node process that awaits `work` (JavaScript source) under the guard, as the CLI entry does. */
function runGuarded(work: string) {
  const script = `import { untilSettled } from ${JSON.stringify(GUARD)};\nprocess.exitCode = await untilSettled('reconcile', ${work});`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

describe('untilSettled', () => {
  it('a command left with nothing to wait on says so and exits 1, not 13 in silence', () => {
    const result = runGuarded('new Promise(() => {})');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('error: reconcile stopped before its work was done');
  });

  it('a command that finishes (after a timer) exits with its own code and prints nothing', () => {
    const result = runGuarded('new Promise((resolve) => setTimeout(() => resolve(0), 50))');
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });
});
