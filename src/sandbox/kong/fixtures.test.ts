// Recorded Kong answers (fixtures/kong-3.4-answers.json, written from Kong's source) checked from
// both sides: the emulator must answer the same requests with the same shapes (and the same error
// bodies, ids aside), and the product's Kong client must read the recorded answers correctly. A
// belief about Kong shared by the emulator and the client is then pinned to Kong's source.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { KongConsumers } from '../../kong/kong-consumers.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { listen, type RunningService } from '../running-service.ts';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
interface Answer {
  request: { method: string; path: string; body?: Json };
  status: number;
  body: Json;
}
const recorded = JSON.parse(readFileSync(new URL('./fixtures/kong-3.4-answers.json', import.meta.url), 'utf8')) as { ids: Record<string, string>; answers: Record<string, Answer> };
const ids = recorded.ids as { consumer: string; developer: string; plugin: string; plugin2: string; key: string };

/** A recorded body with `{"$ref": name}` items replaced by that answer's body. */
function bodyOf(name: string): Json {
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      if (typeof value.$ref === 'string') return bodyOf(value.$ref);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    }
    return typeof value === 'string' ? value.replaceAll('{consumer}', ids.consumer) : value;
  };
  const answer = recorded.answers[name];
  if (!answer) throw new Error(`no recorded answer ${name}`);
  return resolve(answer.body);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** Ids, offsets and times differ between two Kongs; everything else must not. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalized);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'offset' ? '<offset>' : k.endsWith('_at') ? '<time>' : k === 'key' ? '<key>' : normalized(v)]));
  return typeof value === 'string' ? value.replace(UUID, '<uuid>').replace(/offset=[^&]+/, 'offset=<offset>') : value;
}

describe('the Kong emulator answers like the recorded Kong answers', () => {
  let kong: RunningKongEmulator;
  let consumerId: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(kong.adminUrl + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const replay = (name: string, vars: Record<string, string> = {}) => {
    const { request } = recorded.answers[name] as Answer;
    const path = Object.entries({ consumer: consumerId, ...vars }).reduce((p, [k, v]) => p.replaceAll(`{${k}}`, v), request.path);
    return call(request.method, path, request.body);
  };

  beforeAll(async () => {
    kong = await startKongEmulator({ propagationMs: 0 });
    const created = await replay('consumer.created');
    expect(normalized(created)).toEqual(normalized({ status: 201, body: bodyOf('consumer.created') }));
    consumerId = (created.body as { id: string }).id;
  });
  afterAll(async () => {
    await kong.close();
  });

  it.each(['plugin.request-termination.created', 'plugin.rate-limiting.created', 'plugin.duplicate', 'plugin.unknown-config-field', 'plugin.message-with-body', 'key-auth.created', 'tags.invalid'])(
    '%s',
    async (name) => {
      const answer = await replay(name);
      expect(normalized(answer)).toEqual(normalized({ status: recorded.answers[name]?.status, body: bodyOf(name) }));
    },
  );

  it('pages a nested list and a tagged list with Kong’s next links', async () => {
    const first = await replay('consumer.plugins.page1');
    expect(normalized(first)).toEqual(normalized({ status: 200, body: bodyOf('consumer.plugins.page1') }));
    const second = await replay('consumer.plugins.page2', { offset: encodeURIComponent((first.body as { offset: string }).offset) });
    expect(normalized(second)).toEqual(normalized({ status: 200, body: bodyOf('consumer.plugins.page2') }));
    // A second plugin with the tag, so the tagged list has a page 2.
    kong.state.putPlugin('default', { id: crypto.randomUUID(), name: 'acl', enabled: true, config: { allow: ['x'] }, consumer: null, route: null, service: null, tags: ['kong-portal-monetization'] });
    expect(normalized(await replay('plugins.page1.tagged'))).toEqual(normalized({ status: 200, body: bodyOf('plugins.page1.tagged') }));
    expect(await replay('entity.not-found', { missing: 'nobody' })).toEqual({ status: 404, body: bodyOf('entity.not-found') });
  });

  it('answers a developer and a developer PATCH in the recorded (Enterprise) shapes', async () => {
    kong.state.patchWorkspaceConfig('default', { portal: true });
    const developer = kong.state.addDeveloper('default', { email: 'dev@example.com', meta: { full_name: 'Dev One', plan: 'starter' } });
    expect(normalized(await replay('developer', { developer: developer.id }))).toEqual(normalized({ status: 200, body: bodyOf('developer') }));
    expect(normalized(await replay('developer.patched', { developer: developer.id }))).toEqual(normalized({ status: 200, body: bodyOf('developer.patched') }));
  });
});

describe('the product’s Kong client reads the recorded Kong answers', () => {
  let server: RunningService;
  const seen: string[] = [];

  /** Answers each request with the recorded answer whose method and path (ids substituted) match. */
  function answerFor(method: string, path: string): Answer & { name: string } {
    const pathOnly = path.split('?')[0];
    const query = new URLSearchParams(path.split('?')[1] ?? '');
    const candidates = Object.entries(recorded.answers).filter(([, a]) => a.request.method === method && a.request.path.split('?')[0]?.replace('{consumer}', ids.consumer).replace('{developer}', ids.developer) === pathOnly);
    // Paged lists: the second page answers a request that carries an offset.
    const pick = candidates.find(([name]) => (query.has('offset') ? name.endsWith('page2') : !name.endsWith('page2'))) ?? candidates[0];
    if (!pick) throw new Error(`no recorded answer for ${method} ${path}`);
    return { name: pick[0], ...pick[1] };
  }

  beforeAll(async () => {
    let duplicate = false;
    server = await listen('recorded kong', async (request: Request) => {
      const url = new URL(request.url);
      // The client prefixes the workspace; Kong answers /default/x as it answers /x.
      url.pathname = url.pathname.replace(/^\/default(?=\/)/, '');
      const path = `${url.pathname}${url.search}`;
      seen.push(`${request.method} ${path}`);
      let answer = answerFor(request.method, url.pathname + url.search);
      // The second POST of the same plugin is Kong's 409.
      if (answer.name === 'plugin.request-termination.created') {
        if (duplicate) answer = { ...(recorded.answers['plugin.duplicate'] as Answer), name: 'plugin.duplicate' };
        duplicate = true;
      }
      if (url.pathname.includes('/missing')) answer = { ...(recorded.answers['entity.not-found'] as Answer), name: 'entity.not-found' };
      return Response.json(bodyOf(answer.name), { status: answer.status });
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates a plugin, and reads the duplicate as kong_conflict with Kong’s message', async () => {
    const consumers = new KongConsumers(new KongAdminClient({ adminUrl: `${server.url}`, workspace: 'default' }));
    const plugin = await consumers.createPlugin(ids.consumer, { name: 'request-termination', config: { status_code: 402, message: 'Payment required' }, tags: ['kong-portal-monetization', 'kpm-access'] });
    expect(plugin).toMatchObject({ id: ids.plugin, config: { status_code: 402, message: 'Payment required' }, consumer: { id: ids.consumer } });
    const conflict = await consumers.createPlugin(ids.consumer, { name: 'request-termination', config: { status_code: 402, message: 'Payment required' } }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(KongError);
    expect(conflict).toMatchObject({ code: 'kong_conflict', status: 409 });
    expect((conflict as KongError).message).toContain('UNIQUE violation detected');
  });

  it('walks a nested plugin list by offset on its own path, never following `next`', async () => {
    seen.length = 0;
    const consumers = new KongConsumers(new KongAdminClient({ adminUrl: `${server.url}`, workspace: 'default' }));
    const plugins = await consumers.listPlugins(ids.consumer);
    expect(plugins.map((p) => p.id)).toEqual([ids.plugin, ids.plugin2]);
    expect(seen.every((line) => line.includes(`/consumers/${ids.consumer}/plugins`))).toBe(true);
  });

  it('reads a developer (meta as a JSON string) and the wrapped PATCH answer', async () => {
    const client = new KongAdminClient({ adminUrl: server.url, workspace: 'default' });
    const developer = await client.getDeveloper(ids.developer);
    expect(developer).toMatchObject({ email: 'dev@example.com', meta: '{"full_name":"Dev One","plan":"starter"}' });
    const updated = await client.updateDeveloperMeta(ids.developer, '{"full_name":"Dev One","plan":"growth"}');
    expect(updated.meta).toBe('{"full_name":"Dev One","plan":"growth"}');
  });
});
