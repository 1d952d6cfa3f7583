import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, startSandbox } from './start-sandbox.ts';
import { freePort } from './sandbox-wiring.ts';

// Programmatic callers (tests, benches) get free ports without asking, so they never collide with
// `npm start` or each other; `npm start` asks for DEFAULT_PORTS itself (start.test.ts).
describe('startSandbox: ports', () => {
  it('binds free ports, not the well-known ones, when no ports are given', async () => {
    const sandbox = await startSandbox({ services: ['stripe', 'moesif'] });
    try {
      const stripePort = Number(new URL(sandbox.stripe!.url).port);
      const moesifPort = Number(new URL(sandbox.moesif!.url).port);
      expect(stripePort).toBeGreaterThan(0);
      expect(moesifPort).toBeGreaterThan(0);
      expect(stripePort).not.toBe(DEFAULT_PORTS.stripe);
      expect(moesifPort).not.toBe(DEFAULT_PORTS.moesif);
    } finally {
      await sandbox.close();
    }
  });
});

// GATEWAY=aws never calls Kong: the sandbox starts none, and says nothing about one.
describe('startSandbox: hosted signup on the AWS API Gateway emulator', () => {
  it('starts no Kong emulator, sets no Kong or portal variable (not even the shell\'s), and binds the AWS ports asked for', async () => {
    const [aws, awsInvoke] = [await freePort(), await freePort()];
    const sandbox = await startSandbox({
      services: ['kong', 'stripe', 'moesif'],
      ports: { aws, awsInvoke },
      hosted: { smtpUrl: 'smtp://127.0.0.1:2525', gateway: 'aws' },
      env: { KONG_ADMIN_URL: 'http://kong.shell.example:8001', PORTAL_ORIGINS: 'http://portal.shell.example' },
    });
    try {
      expect(sandbox.kong).toBeUndefined();
      expect(Object.keys(sandbox.env).filter((name) => name.startsWith('KONG_') || name === 'PORTAL_ORIGINS')).toEqual([]);
      expect(sandbox.aws?.emulator.endpoint).toBe(`http://127.0.0.1:${aws}`);
      expect(sandbox.aws?.apiUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${awsInvoke}/`));
      expect(sandbox.env).toMatchObject({ GATEWAY: 'aws', AWS_ENDPOINT_URL_API_GATEWAY: `http://127.0.0.1:${aws}` });
    } finally {
      await sandbox.close();
    }
  });
});
