import { afterAll, describe, expect, it } from 'vitest';
import { listen, type ListeningServer } from './http-listen.ts';

const started: ListeningServer[] = [];
afterAll(async () => {
  await Promise.all(started.map((service) => service.close()));
});

async function start(name: string, port = 0, portHint?: string): Promise<ListeningServer> {
  const service = await listen(name, (request) => new Response(`hello ${new URL(request.url).pathname}`), port, '127.0.0.1', portHint ? { portHint } : {});
  started.push(service);
  return service;
}

describe('listen', () => {
  it('serves the handler on 127.0.0.1 at the URL it answers', async () => {
    const service = await start('greeter');
    expect(service.name).toBe('greeter');
    expect(service.port).toBeGreaterThan(0);
    expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
    expect(await (await fetch(`${service.url}/there`)).text()).toBe('hello /there');
  });

  it('names the service, port and how to pick another when the port is taken', async () => {
    const first = await start('first');
    await expect(listen('second', () => new Response(''), first.port)).rejects.toThrow(
      `second: port ${first.port} on 127.0.0.1 is already in use; pick another with its --*-port flag or environment variable`,
    );
    await expect(listen('provisioner', () => new Response(''), first.port, '127.0.0.1', { portHint: '--port or PROVISIONER_PORT' })).rejects.toThrow(
      /^provisioner: port \d+ on 127\.0\.0\.1 is already in use; pick another with --port or PROVISIONER_PORT$/,
    );
  });

  it('close() cuts requests still in flight instead of waiting for them, and may be called again', async () => {
    const never = new Promise<Response>(() => {});
    const service = await listen('stuck', () => never);
    const inFlight = fetch(`${service.url}/`);
    await new Promise((resolve) => service.server.once('request', resolve));
    await service.close();
    await expect(inFlight).rejects.toThrow();
    await service.close();
    await expect(fetch(`${service.url}/`)).rejects.toThrow();
  });

  it('stopAccepting() refuses new connections but lets open ones finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const service = await listen('slow', async () => {
      await gate;
      return new Response('finished');
    });
    const inFlight = fetch(`${service.url}/`).then((response) => response.text());
    await new Promise((resolve) => service.server.once('request', resolve));
    const stopped = service.stopAccepting();
    await expect(fetch(`${service.url}/`, { headers: { connection: 'close' } })).rejects.toThrow();
    release();
    expect(await inFlight).toBe('finished');
    service.server.closeIdleConnections();
    await stopped;
    await service.close();
  });
});
