import { afterEach, describe, expect, it } from 'vitest';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';
import { KONG_DB_UPDATE_FREQUENCY_MS } from './propagation.ts';

const running: RunningKongEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.close()));
});

async function start(propagationMs: number) {
  const kong = await startKongEmulator({ propagationMs });
  running.push(kong);
  kong.state.patchWorkspaceConfig('default', { portal: true });
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(kong.adminUrl + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const call = (key: string, headers: Record<string, string> = {}) => fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: key, ...headers } });
  return { kong, admin, call };
}

describe('propagation: the proxy applies plugin and credential changes after the delay', () => {
  it('defaults to Kong’s db_update_frequency (5 s)', async () => {
    const kong = await startKongEmulator();
    running.push(kong);
    expect(KONG_DB_UPDATE_FREQUENCY_MS).toBe(5_000);
    expect(kong.state.proxyView.delayMs).toBe(5_000);
  });

  it('keeps answering with the old state until the change has propagated', async () => {
    const { kong, admin, call } = await start(60_000);
    const developer = kong.state.addDeveloper('default', { email: 'late@example.com' });
    const key = (await admin('POST', `/default/consumers/${developer.consumer?.id}/key-auth`)).body;
    // Developer consumers are hidden from /consumers; created through the state the key still waits.
    expect(key).toEqual({ message: 'Not found' });
    const credential = kong.state.addKey('default', developer.consumer?.id ?? '', 'late-key');
    expect((await call('late-key')).status).toBe(401);
    kong.state.proxyView.flush();
    expect((await call('late-key')).status).toBe(200);

    const block = await admin('POST', '/default/developers/late@example.com/plugins', { name: 'request-termination', config: { status_code: 402, message: 'pay first' } });
    expect(block.status).toBe(201);
    // The Admin API has it at once; the proxy does not yet.
    expect((await admin('GET', `/default/plugins/${block.body.id}`)).status).toBe(200);
    expect((await call('late-key')).status).toBe(200);
    expect(kong.state.proxyView.pendingChanges).toBe(1);
    kong.state.proxyView.flush();
    expect((await call('late-key')).status).toBe(402);

    await admin('DELETE', `/default/developers/late@example.com/plugins/${block.body.id}`);
    kong.state.deleteKey('default', credential.key);
    expect((await call('late-key')).status).toBe(402);
    kong.state.proxyView.flush();
    expect((await call('late-key')).status).toBe(401);
  });

  it('applies a change by itself once the delay has passed', async () => {
    const { kong, call } = await start(1_000);
    const developer = kong.state.addDeveloper('default', { email: 'soon@example.com' });
    kong.state.addKey('default', developer.consumer?.id ?? '', 'soon-key');
    expect((await call('soon-key')).status).toBe(401);
    let status = 401;
    for (let i = 0; i < 200 && status === 401; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await call('soon-key')).status;
    }
    expect(status).toBe(200);
  });
});

describe('request-termination at the proxy (handler.lua)', () => {
  it('answers a status without a message with an empty body, and Kong’s default message where it has one', async () => {
    const { kong, admin, call } = await start(0);
    kong.state.addDeveloper('default', { email: 'rt@example.com', key: 'rt-key' });
    const plugin = (await admin('POST', '/default/developers/rt@example.com/plugins', { name: 'request-termination', config: { status_code: 402 } })).body;
    const bare = await call('rt-key');
    expect([bare.status, bare.headers.get('content-type'), await bare.text()]).toEqual([402, null, '']);
    await admin('PATCH', `/default/developers/rt@example.com/plugins/${plugin.id}`, { config: { status_code: 503 } });
    const unavailable = await call('rt-key');
    expect([unavailable.status, await unavailable.json()]).toEqual([503, { message: 'Service unavailable' }]);
    await admin('PATCH', `/default/developers/rt@example.com/plugins/${plugin.id}`, { config: { trigger: 'x-debug' } });
    expect((await call('rt-key')).status).toBe(200);
    expect((await call('rt-key', { 'x-debug': '1' })).status).toBe(503);
  });
});

describe('rate-limiting at the proxy (kong/plugins/rate-limiting)', () => {
  it('refuses the call past the limit with Kong’s 429 body and headers, per consumer', async () => {
    const { kong, admin, call } = await start(0);
    // Half past a minute: the minute window resets in 30 s.
    kong.state.now = () => Date.UTC(2026, 11, 6, 12, 0, 30);
    kong.state.addDeveloper('default', { email: 'rl@example.com', key: 'rl-key' });
    kong.state.addDeveloper('default', { email: 'free@example.com', key: 'free-key' });
    const created = await admin('POST', '/default/developers/rl@example.com/plugins', { name: 'rate-limiting', config: { minute: 2, hour: 100 } });
    expect(created.body.config).toMatchObject({ minute: 2, hour: 100, second: null, limit_by: 'consumer', policy: 'local', error_code: 429, error_message: 'API rate limit exceeded', fault_tolerant: true, hide_client_headers: false, sync_rate: -1 });

    const first = await call('rl-key');
    expect(first.status).toBe(200);
    expect(Object.fromEntries([...first.headers].filter(([name]) => name.includes('ratelimit')))).toEqual({
      'x-ratelimit-limit-minute': '2',
      'x-ratelimit-remaining-minute': '1',
      'x-ratelimit-limit-hour': '100',
      'x-ratelimit-remaining-hour': '99',
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '30',
    });
    expect((await call('rl-key')).status).toBe(200);
    const refused = await call('rl-key');
    expect([refused.status, await refused.json(), refused.headers.get('retry-after'), refused.headers.get('ratelimit-remaining')]).toEqual([429, { message: 'API rate limit exceeded' }, '30', '0']);
    // Another consumer is untouched; the next minute starts over.
    expect((await call('free-key')).status).toBe(200);
    kong.state.now = () => Date.UTC(2026, 11, 6, 12, 1, 0);
    expect((await call('rl-key')).status).toBe(200);
  });

  it('validates its config like schema.lua: a window is needed, unknown fields and inverted limits refused', async () => {
    const { kong, admin } = await start(0);
    kong.state.addDeveloper('default', { email: 'cfg@example.com' });
    const post = (config: unknown) => admin('POST', '/default/developers/cfg@example.com/plugins', { name: 'rate-limiting', config });
    expect((await post({})).body.fields).toEqual({
      '@entity': ["at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'"],
    });
    expect((await post({ minute: 5, windows: 2 })).body.fields).toEqual({ config: { windows: 'unknown field' } });
    expect((await post({ minute: 50, hour: 10 })).body.fields).toEqual({ config: 'The limit for hour(10.0) cannot be lower than the limit for minute(50.0)' });
    expect((await post({ minute: 5, policy: 'memcached' })).body.fields).toEqual({ config: { policy: 'expected one of: local, cluster, redis' } });
    expect((await post({ minute: 0 })).body.fields).toEqual({ config: { minute: 'value must be greater than 0' } });
  });

  it('applies a new limit only after propagation', async () => {
    const { kong, admin, call } = await start(60_000);
    kong.state.now = () => Date.UTC(2026, 11, 6, 12, 0, 30);
    kong.state.addDeveloper('default', { email: 'slow@example.com', key: 'slow-key' });
    kong.state.proxyView.flush();
    await admin('POST', '/default/developers/slow@example.com/plugins', { name: 'rate-limiting', config: { second: 1, minute: 1 } });
    for (let i = 0; i < 3; i++) expect((await call('slow-key')).status).toBe(200);
    kong.state.proxyView.flush();
    expect((await call('slow-key')).status).toBe(200);
    expect((await call('slow-key')).status).toBe(429);
  });
});
