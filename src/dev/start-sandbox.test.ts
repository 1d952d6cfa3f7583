import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, startSandbox } from './start-sandbox.ts';

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
