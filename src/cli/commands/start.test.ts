import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './start.ts';

// Only the refusals: a bad flag must stop before anything listens (the happy path is the e2e journey).
describe('portal-monetization start: bad input', () => {
  afterEach(() => vi.restoreAllMocks());

  function captureStderr(): string[] {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    return lines;
  }

  it('names an unknown service and exits 2', async () => {
    const stderr = captureStderr();
    expect(await run(['--services', 'kong,redis'])).toBe(2);
    expect(stderr.join('')).toContain('--services: unknown redis');
  });

  it('names a port that is not a port and exits 2', async () => {
    const stderr = captureStderr();
    expect(await run(['--kong-admin-port', '70000'])).toBe(2);
    expect(stderr.join('')).toContain('--kong-admin-port: "70000" is not a port number');
  });

  it('refuses --stripe with an unknown mode', async () => {
    const stderr = captureStderr();
    expect(await run(['--stripe', 'live'])).toBe(2);
    expect(stderr.join('')).toMatch(/--stripe <mode>.*live.*is invalid/);
  });

  it('refuses --stripe real without a test-mode key, naming STRIPE_SECRET_KEY', async () => {
    const stderr = captureStderr();
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const previous = process.env.STRIPE_SECRET_KEY;
    process.env.STRIPE_SECRET_KEY = 'sk_live_notallowedhere';
    try {
      const errors: string[] = [];
      vi.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line));
      expect(await run(['--stripe', 'real'])).toBe(2); // bad input: a setting
      // A live key is refused before anything else, in every mode.
      expect(errors.join('\n')).toContain('STRIPE_SECRET_KEY: is a Stripe live-mode key; the sandbox never uses live keys');
      expect(errors.join('\n')).not.toContain('sk_live_notallowedhere');
    } finally {
      if (previous === undefined) delete process.env.STRIPE_SECRET_KEY;
      else process.env.STRIPE_SECRET_KEY = previous;
    }
    expect(stderr.join('')).toBe('');
  });
});
