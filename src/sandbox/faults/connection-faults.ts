/**
 * Network-level faults for emulators served by @hono/node-server: a dropped connection (the
 * socket is destroyed with no answer, the client sees ECONNRESET or "socket hang up") and a hang
 * (no answer until the client gives up). Called in-process (no socket), a drop rejects like a
 * failed fetch so callers see the same kind of error.
 */
import type { IncomingMessage } from 'node:http';

/** The bindings @hono/node-server passes as the fetch handler's env. */
interface NodeBindings {
  incoming?: IncomingMessage;
}

/** What an in-process caller of an emulator's fetch gets for a dropped connection. */
export class ConnectionDroppedError extends TypeError {
  readonly code = 'ECONNRESET';
  constructor(what: string) {
    super(`fetch failed: ${what} dropped the connection (injected fault)`);
    this.name = 'ConnectionDroppedError';
  }
}

function socketOf(env: unknown): IncomingMessage['socket'] | undefined {
  const incoming = (env as NodeBindings | undefined)?.incoming;
  return incoming?.socket ?? undefined;
}

/**
 * Closes the client's connection without an answer. Over HTTP it returns a placeholder Response
 * that is never delivered (the socket is gone); in-process it throws ConnectionDroppedError.
 */
export function dropConnection(env: unknown, what: string): Response {
  const socket = socketOf(env);
  if (!socket) throw new ConnectionDroppedError(what);
  socket.destroy();
  return new Response(null, { status: 499 });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref?.();
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Holds the request without answering until the client gives up (aborts or closes the socket),
 * `maxMs` passes or `stop` aborts (emulator reset/close), then drops the connection.
 */
export async function hangThenDrop(request: Request, env: unknown, maxMs: number, stop: AbortSignal, what: string): Promise<Response> {
  const socket = socketOf(env);
  const gaveUp = new AbortController();
  const onClose = () => gaveUp.abort();
  socket?.once('close', onClose);
  request.signal.addEventListener('abort', onClose, { once: true });
  stop.addEventListener('abort', onClose, { once: true });
  try {
    await sleep(maxMs, gaveUp.signal);
  } finally {
    socket?.off('close', onClose);
    request.signal.removeEventListener('abort', onClose);
    stop.removeEventListener('abort', onClose);
  }
  return dropConnection(env, what);
}
