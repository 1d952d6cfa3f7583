/**
 * Serves a fetch handler (a Hono app's `app.fetch`) on 127.0.0.1 or a given host, and hands back
 * its URL and a close() that also ends keep-alive sockets, so tests, the sandbox and the
 * provisioner stop promptly. A taken port fails with a message saying how to pick another.
 */
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningService {
  name: string;
  /** e.g. http://127.0.0.1:12111 (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

interface ListenOptions {
  /** How to choose another port, for the "already in use" error; e.g. "--port or PROVISIONER_PORT". */
  portHint?: string;
}

export interface ListeningServer extends RunningService {
  /** The Node server underneath, for graceful shutdown ('request' events, closeIdleConnections). */
  server: Server;
  /** Stops accepting connections; resolves once every open one has ended. Safe to call again. */
  stopAccepting(): Promise<void>;
}

export async function listen(
  name: string,
  fetch: FetchHandler,
  port = 0,
  host = '127.0.0.1',
  { portHint = 'its --*-port flag or environment variable' }: ListenOptions = {},
): Promise<ListeningServer> {
  let server: Server | undefined;
  const actualPort = await new Promise<number>((resolve, reject) => {
    // Without createServer options @hono/node-server makes a plain node:http server.
    server = serve({ fetch, port, hostname: host }, (info: AddressInfo) => resolve(info.port)) as Server;
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`${name}: port ${port} on ${host} is already in use; pick another with ${portHint}`) : error),
    );
  });
  const http = server as Server;
  // A second server.close() after the server has closed never calls back: share the first one.
  let closed: Promise<void> | undefined;
  const stopAccepting = () => (closed ??= new Promise<void>((resolve) => http.close(() => resolve())));
  return {
    name,
    // 0.0.0.0 is where the server listens, not an address to call it on.
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`,
    port: actualPort,
    server: http,
    stopAccepting,
    close: () => {
      const done = stopAccepting();
      http.closeAllConnections();
      return done;
    },
  };
}
