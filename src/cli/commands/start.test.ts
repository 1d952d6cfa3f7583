import { afterEach, describe, expect, it, vi } from 'vitest';
import { requestedPorts, run } from './start.ts';

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

// startSandbox alone binds free ports; `npm start` must ask for the real products' ports itself.
describe('portal-monetization start: the ports it asks for', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('asks for the well-known ports when nothing moves them', () => {
    for (const name of ['KONG_ADMIN_PORT', 'KONG_PORTAL_PORT', 'KONG_PORTAL_API_PORT', 'KONG_PROXY_PORT', 'STRIPE_EMULATOR_PORT', 'MOESIF_EMULATOR_PORT', 'PROVISIONER_PORT', 'AWS_EMULATOR_PORT', 'AWS_EMULATOR_INVOKE_PORT'])
      vi.stubEnv(name, undefined);
    expect(requestedPorts([])).toEqual({ kongAdmin: 8001, kongPages: 8003, kongPortalApi: 8004, kongProxy: 8000, stripe: 12111, moesif: 9500, provisioner: 8787, aws: 4566, awsInvoke: 4567 });
  });

  it('moves a port by its environment variable, and a flag wins over it', () => {
    vi.stubEnv('KONG_PORTAL_PORT', '9003');
    vi.stubEnv('PROVISIONER_PORT', '9787');
    const ports = requestedPorts(['--provisioner-port', '9788']);
    expect(ports?.kongPages).toBe(9003);
    expect(ports?.provisioner).toBe(9788);
    expect(ports?.kongAdmin).toBe(8001);
  });

  it('moves the AWS emulator ports by variable or flag, like every other port', () => {
    vi.stubEnv('AWS_EMULATOR_PORT', '14566');
    vi.stubEnv('AWS_EMULATOR_INVOKE_PORT', '14567');
    expect(requestedPorts([])).toMatchObject({ aws: 14566, awsInvoke: 14567 });
    expect(requestedPorts(['--aws-port', '24566', '--aws-invoke-port', '24567'])).toMatchObject({ aws: 24566, awsInvoke: 24567 });
  });

  it('start --help lists every port with its flag and variable', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    try {
      expect(await run(['--help'])).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
    const help = lines.join('');
    for (const [flag, variable] of [
      ['--aws-port', 'AWS_EMULATOR_PORT'],
      ['--aws-invoke-port', 'AWS_EMULATOR_INVOKE_PORT'],
      ['--kong-proxy-port', 'KONG_PROXY_PORT'],
    ])
      expect(new RegExp(`${flag} <port>[\\s\\S]*?env:\\s+(\\w+)`).exec(help)?.[1], flag).toBe(variable);
    expect(help).toContain('default: 4566');
  });
});
