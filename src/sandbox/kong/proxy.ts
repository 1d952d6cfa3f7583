/**
 * The gateway proxy (Kong's port 8000): `/test-service` behind key-auth. A good key reaches an
 * echo upstream that reports the X-Consumer-* headers Kong would send; each proxied call is then
 * reported to Moesif like the Moesif Kong plugin does (user id from X-Consumer-Username), fire and
 * forget, so a Moesif outage never breaks the API. Keys and plugins are read from the proxy's view
 * (propagation.ts): an Admin API change reaches it after the propagation delay. Consumer-scoped
 * plugins run in Kong's priority order: rate-limiting (910), then request-termination (2).
 */
import { Hono, type Context } from 'hono';
import { postCollectorEvent } from '../moesif/collector-event.ts';
import { TEST_SERVICE_PATH, type GatewayEntities } from './gateway-entities.ts';
import type { KongConsumer, KongEmulatorState, MoesifDelivery, StoredPlugin } from './kong-state.ts';

interface ProxyOptions {
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
    const credential = state.proxyView.credential(workspace, key);
    const consumer = credential ? state.ws(workspace)?.consumers.get(credential.consumer.id) : undefined;
    if (!credential || !consumer) return c.json({ message: 'Invalid authentication credentials' }, 401);

    const upstreamHeaders = consumerHeaders(consumer, credential.id);
    const plugins = consumerPlugins(state, workspace, consumer.id);
    const limited = rateLimit(state, plugins, c, { consumerId: consumer.id, credentialId: credential.id, serviceId: options.gateway.services[0]?.id as string });
    const terminated = limited.refusal ?? terminate(plugins, c);
    if (terminated) {
      // The Moesif plugin logs every request, terminated ones included (with their status).
      if (options.moesifUrl && options.moesifApplicationId)
        state.track(reportToMoesif(state, options.moesifUrl, options.moesifApplicationId, c, started, upstreamHeaders, { status: terminated.status, body: terminated.body }));
      return terminationResponse(terminated, limited.headers);
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
    for (const [name, value] of Object.entries(limited.headers)) response.headers.set(name, value);
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
  /** undefined: no body at all (Kong's exit with a nil body). */
  body: string | undefined;
  /** undefined: no Content-Type header (a raw `body` without `content_type`). */
  contentType: string | undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function terminationResponse(terminated: Termination, extraHeaders: Record<string, string>): Response {
  const headers = new Headers(extraHeaders);
  if (terminated.contentType) headers.set('content-type', terminated.contentType);
  // Bytes, not a string: a string body would make the Response add text/plain of its own.
  return new Response(terminated.body === undefined ? null : new TextEncoder().encode(terminated.body), { status: terminated.status, headers });
}

/** Enabled plugins scoped to this consumer alone (no route or service), as the proxy sees them. */
function consumerPlugins(state: KongEmulatorState, workspace: string, consumerId: string): StoredPlugin[] {
  const out: StoredPlugin[] = [];
  for (const plugin of state.proxyView.pluginsOf(workspace)) if (plugin.enabled && plugin.consumer?.id === consumerId && !plugin.route && !plugin.service) out.push(plugin);
  return out;
}

function rateLimit(state: KongEmulatorState, plugins: StoredPlugin[], c: Context, who: { consumerId: string; credentialId: string; serviceId: string }): { headers: Record<string, string>; refusal?: Termination } {
  const plugin = plugins.find((p) => p.name === 'rate-limiting');
  if (!plugin) return { headers: {} };
  const verdict = state.rateLimits.check({
    config: plugin.config,
    ...who,
    ip: '127.0.0.1',
    path: new URL(c.req.url).pathname,
    header: (name) => c.req.header(name),
    now: state.now(),
  });
  return { headers: verdict.headers, ...(verdict.refusal ? { refusal: { ...verdict.refusal, contentType: JSON_TYPE } } : {}) };
}

/**
 * A `request-termination` plugin scoped to this consumer, as its handler.lua runs it: `trigger`
 * (a header or query argument that must be present), `echo` (the request echoed back), `body` as
 * is with `content_type` (no Content-Type when none), else `{"message": message}` or Kong's default
 * message for the status, and no body at all for a status without one (402, 403, 429…).
 */
function terminate(plugins: StoredPlugin[], c: Context): Termination | undefined {
  const plugin = plugins.find((p) => p.name === 'request-termination');
  if (!plugin) return undefined;
  const config = plugin.config as { status_code?: unknown; message?: unknown; body?: unknown; content_type?: unknown; echo?: unknown; trigger?: unknown };
  const status = Number(config.status_code ?? 503);
  const message = typeof config.message === 'string' ? config.message : DEFAULT_MESSAGES[status];
  if (typeof config.trigger === 'string' && c.req.header(config.trigger) === undefined && new URL(c.req.url).searchParams.get(config.trigger) === null) return undefined;
  if (config.echo === true) {
    const url = new URL(c.req.url);
    const echoed = { message, request: { scheme: url.protocol.replace(':', ''), host: url.hostname, port: Number(url.port), headers: c.req.header(), query: Object.fromEntries(url.searchParams), method: c.req.method, path: url.pathname } };
    return { status, body: JSON.stringify(echoed), contentType: JSON_TYPE };
  }
  if (typeof config.body === 'string') return { status, body: config.body, contentType: typeof config.content_type === 'string' ? config.content_type : undefined };
  return message === undefined ? { status, body: undefined, contentType: undefined } : { status, body: JSON.stringify({ message }), contentType: JSON_TYPE };
}

/** request-termination's own defaults (handler.lua DEFAULT_RESPONSE); any other status has no message. */
const DEFAULT_MESSAGES: Record<number, string> = { 401: 'Unauthorized', 404: 'Not found', 405: 'Method not allowed', 500: 'An unexpected error occurred', 502: 'Bad Gateway', 503: 'Service unavailable' };

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
  const plugin = [...state.proxyView.pluginsOf('default')].find((p) => p.name === 'moesif' && p.enabled && !p.consumer);
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
  await postCollectorEvent(moesifUrl, applicationId, event, delivery);
}
