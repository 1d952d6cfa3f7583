/**
 * A pass-through HTTP proxy that counts requests by method. Benchmarks put it in front of the
 * Kong emulator's Admin API so that our sync and Kong's kong-portal-cli (a separate process we
 * cannot instrument) are counted the same way, on the wire.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  /** Requests by method since the last reset. */
  counts(): { total: number; byMethod: Record<string, number> };
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  let byMethod: Record<string, number> = {};
  const server = createServer((incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    byMethod[method] = (byMethod[method] ?? 0) + 1;
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method, path: incoming.url, headers: { ...incoming.headers, host: target.host } },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => {
      outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(`counting proxy: ${error.message}`);
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ total: Object.values(byMethod).reduce((a, b) => a + b, 0), byMethod: { ...byMethod } }),
    reset: () => {
      byMethod = {};
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
