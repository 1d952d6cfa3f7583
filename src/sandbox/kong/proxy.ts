/**
 * The gateway proxy (Kong's port 8000): `/test-service` behind key-auth. A good key reaches an
 * echo upstream that reports the X-Consumer-* headers Kong would send; each proxied call is then
 * reported to Moesif like the Moesif Kong plugin does (user id from X-Consumer-Username), fire and
 * forget, so a Moesif outage never breaks the API.
 */
import { Hono, type Context } from 'hono';
import { TEST_SERVICE_PATH, type GatewayEntities } from './gateway-entities.ts';
import type { KongConsumer, KongEmulatorState, MoesifDelivery } from './kong-state.ts';

export interface ProxyOptions {
  gateway: GatewayEntities;
  /** The workspace the test route lives in (keys are looked up there). */
  workspace?: string;
  /** Moesif Collector base URL, e.g. http://127.0.0.1:9500 (no events are sent when unset). */
  moesifUrl?: string | undefined;
  moesifApplicationId?: string | undefined;
}

export function createProxyApp(state: KongEmulatorState, options: ProxyOptions): Hono {
  const app = new Hono();
  const workspace = options.workspace ?? 'default';

  const handle = async (c: Context): Promise<Response> => {
    const started = new Date();
    const key = findKey(c, options.gateway.keyNames);
    if (key === null) return c.json({ message: 'Duplicate API key found' }, 401);
    if (key === undefined) {
      c.header('WWW-Authenticate', 'Key realm="kong"');
      return c.json({ message: 'No API key found in request' }, 401);
    }
    const credential = state.ws(workspace)?.keyAuth.get(key);
    const consumer = credential ? state.ws(workspace)?.consumers.get(credential.consumer.id) : undefined;
    if (!credential || !consumer) return c.json({ message: 'Invalid authentication credentials' }, 401);

    const upstreamHeaders = consumerHeaders(consumer, credential.id);
    const terminated = terminate(state, workspace, consumer.id);
    if (terminated) {
      // The Moesif plugin logs every request, terminated ones included (with their status).
      if (options.moesifUrl && options.moesifApplicationId)
        state.track(reportToMoesif(state, options.moesifUrl, options.moesifApplicationId, c, started, upstreamHeaders, { status: terminated.status, body: terminated.body }));
      return new Response(terminated.body, { status: terminated.status, headers: { 'content-type': terminated.contentType } });
    }
    const url = new URL(c.req.url);
    const body = {
      service: 'test-service',
      method: c.req.method,
      path: url.pathname.slice(TEST_SERVICE_PATH.length) || '/',
      query: Object.fromEntries(url.searchParams),
      headers: upstreamHeaders,
    };
    const response = c.json(body, 200);
    if (options.moesifUrl && options.moesifApplicationId) {
      state.track(reportToMoesif(state, options.moesifUrl, options.moesifApplicationId, c, started, upstreamHeaders, { status: 200, body }));
    }
    return response;
  };

  app.all(TEST_SERVICE_PATH, handle);
  app.all(`${TEST_SERVICE_PATH}/*`, handle);
  app.notFound((c) => c.json({ message: 'no Route matched with those values' }, 404));
  return app;
}

/** The key from headers first, then the query; null when a name appears twice (Kong's 401). */
function findKey(c: Context, keyNames: string[]): string | undefined | null {
  const url = new URL(c.req.url);
  for (const name of keyNames) {
    const header = c.req.header(name);
    if (header) return header;
    const values = url.searchParams.getAll(name);
    if (values.length > 1) return null;
    if (values[0]) return values[0];
  }
  return undefined;
}

interface Termination {
  status: number;
  body: string;
  contentType: string;
}

/**
 * An enabled `request-termination` plugin scoped to this consumer (it runs after key-auth has
 * identified the consumer): `message` answers JSON `{"message": …}`, `body` answers as is with
 * `content_type`; neither gives Kong's default message for the status. Other consumers are untouched.
 */
function terminate(state: KongEmulatorState, workspace: string, consumerId: string): Termination | undefined {
  const plugin = state.consumerPlugins(workspace, consumerId).find((p) => p.name === 'request-termination' && p.enabled && !p.route && !p.service);
  if (!plugin) return undefined;
  const status = Number(plugin.config.status_code);
  const { message, body, content_type: contentType } = plugin.config as { message?: unknown; body?: unknown; content_type?: unknown };
  if (typeof body === 'string') return { status, body, contentType: typeof contentType === 'string' ? contentType : 'application/json; charset=utf-8' };
  const text = typeof message === 'string' ? message : (DEFAULT_MESSAGES[status] ?? 'Request terminated');
  return { status, body: JSON.stringify({ message: text }), contentType: 'application/json; charset=utf-8' };
}

const DEFAULT_MESSAGES: Record<number, string> = { 402: 'Payment required', 403: 'Forbidden', 429: 'API rate limit exceeded', 503: 'Service unavailable' };

/** What key-auth sets upstream; X-Consumer-Custom-ID only when the consumer has one. */
function consumerHeaders(consumer: KongConsumer, credentialId: string): Record<string, string> {
  return {
    'x-consumer-id': consumer.id,
    ...(consumer.custom_id ? { 'x-consumer-custom-id': consumer.custom_id } : {}),
    'x-consumer-username': consumer.username,
    'x-credential-identifier': credentialId,
  };
}

async function reportToMoesif(
  state: KongEmulatorState,
  moesifUrl: string,
  applicationId: string,
  c: Context,
  started: Date,
  upstreamHeaders: Record<string, string>,
  answer: { status: number; body: unknown },
): Promise<void> {
  // The plugin's user id order: its user_id_header request header, custom id, username, consumer id.
  const plugin = [...(state.ws('default')?.plugins.values() ?? [])].find((p) => p.name === 'moesif' && p.enabled && !p.consumer);
  if (!plugin) return; // no Moesif plugin on the gateway: nothing is logged
  const header = typeof plugin.config.user_id_header === 'string' && plugin.config.user_id_header !== '' ? c.req.header(plugin.config.user_id_header) : undefined;
  const userId = header ?? upstreamHeaders['x-consumer-custom-id'] ?? upstreamHeaders['x-consumer-username'] ?? upstreamHeaders['x-consumer-id'];
  const requestHeaders = Object.fromEntries(Object.entries(c.req.header()).filter(([name]) => name !== 'apikey'));
  const event = {
    request: { time: started.toISOString(), uri: c.req.url, verb: c.req.method, headers: requestHeaders, ip_address: '127.0.0.1' },
    response: { time: new Date().toISOString(), status: answer.status, headers: { 'content-type': 'application/json' }, body: answer.body },
    user_id: userId,
    direction: 'Incoming',
    metadata: { kong_consumer_id: upstreamHeaders['x-consumer-id'] },
  };
  const url = `${moesifUrl.replace(/\/+$/, '')}/v1/events/batch`;
  const delivery: MoesifDelivery = { url, userId, status: undefined, error: undefined };
  state.moesifDeliveries.push(delivery);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moesif-application-id': applicationId },
      body: JSON.stringify([event]),
      signal: AbortSignal.timeout(10_000),
    });
    delivery.status = response.status;
    await response.arrayBuffer();
  } catch (error) {
    delivery.error = (error as Error).message;
  }
}
