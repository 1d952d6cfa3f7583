/**
 * Starts a Hono app (or any fetch handler) on 127.0.0.1 and hands back its URL and a close()
 * that also ends keep-alive sockets, so tests and the sandbox stop promptly.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';

export interface RunningService {
  name: string;
  /** e.g. http://127.0.0.1:12111 (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

export async function listen(name: string, fetch: FetchHandler, port = 0, host = '127.0.0.1'): Promise<RunningService> {
  let server: ServerType | undefined;
  const actualPort = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch, port, hostname: host }, (info: AddressInfo) => resolve(info.port));
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`${name}: port ${port} on ${host} is already in use; pick another with its --*-port flag or environment variable`) : error),
    );
  });
  const running = server as ServerType;
  return {
    name,
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        const http = running as unknown as { closeAllConnections?: () => void };
        running.close(() => resolve());
        http.closeAllConnections?.();
      }),
  };
}
