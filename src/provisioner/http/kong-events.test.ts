import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { startKongEmulator, type RunningKongEmulator } from '../../sandbox/kong/kong-emulator.ts';
import { createKongEventReceiver, decideKongEvent, KongEventSecretError, SeenEvents, signKongEvent, verifyKongSignature } from './kong-events.ts';

const provisionable = (status: number) => [0, 1, 5].includes(status);

describe('verifyKongSignature', () => {
  const body = '{"source":"crud","event":"developers"}';
  const signature = signKongEvent(body, 's3cret');

  it('accepts the HMAC-SHA1 hex of the raw body, bare or with a sha1= prefix', () => {
    expect(verifyKongSignature(body, signature, 's3cret')).toBe(true);
    expect(verifyKongSignature(body, `sha1=${signature.toUpperCase()}`, 's3cret')).toBe(true);
  });

  it('rejects a wrong secret, a changed body, a missing or malformed header', () => {
    expect(verifyKongSignature(body, signKongEvent(body, 'other'), 's3cret')).toBe(false);
    expect(verifyKongSignature(`${body} `, signature, 's3cret')).toBe(false);
    expect(verifyKongSignature(body, undefined, 's3cret')).toBe(false);
    expect(verifyKongSignature(body, 'not-hex', 's3cret')).toBe(false);
    expect(verifyKongSignature(body, signature.slice(0, 38), 's3cret')).toBe(false);
  });
});

describe('decideKongEvent', () => {
  const dev = (status: number) => ({ id: 'dev-1', email: 'a@b.c', status });

  it('provisions a created developer with a provisionable status', () => {
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'create', entity: dev(1) }, provisionable)).toEqual({ action: 'provision', developerId: 'dev-1', previousEmails: [] });
  });

  it('ignores a created developer that is rejected', () => {
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'create', entity: dev(2) }, provisionable).action).toBe('ignore');
  });

  it('provisions an update that makes the developer provisionable, and only that', () => {
    const update = (from: number, to: number) => decideKongEvent({ source: 'crud', event: 'developers', operation: 'update', entity: dev(to), old_entity: dev(from) }, provisionable);
    expect(update(4, 0).action).toBe('provision');
    expect(update(1, 0).action).toBe('ignore');
    expect(update(0, 0).action).toBe('ignore');
  });

  it('a revoke or reject is a removal; a delete is a removal of a deleted developer', () => {
    const update = (from: number, to: number) => decideKongEvent({ source: 'crud', event: 'developers', operation: 'update', entity: dev(to), old_entity: dev(from) }, provisionable);
    expect(update(0, 3)).toEqual({ action: 'removed', developerId: 'dev-1', email: 'a@b.c', deleted: false });
    expect(update(0, 2).action).toBe('removed');
    expect(update(3, 3).action).toBe('ignore');
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'delete', entity: dev(0) }, provisionable)).toEqual({
      action: 'removed',
      developerId: 'dev-1',
      email: 'a@b.c',
      deleted: true,
    });
  });

  it('an email change of a provisioned developer provisions with the old email to follow the same customer', () => {
    const event = { source: 'crud', event: 'developers', operation: 'update', entity: { ...dev(0), email: 'new@b.c' }, old_entity: dev(0) };
    expect(decideKongEvent(event, provisionable)).toEqual({ action: 'provision', developerId: 'dev-1', previousEmails: ['a@b.c'] });
  });

  it('ignores other sources, events and operations', () => {
    expect(decideKongEvent({ source: 'crud', event: 'consumers', operation: 'create', entity: dev(0) }, provisionable).action).toBe('ignore');
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'create' }, provisionable).action).toBe('ignore');
  });
});

describe('createKongEventReceiver', () => {
  const SECRET = 'a-secret-of-16+chars';
  const bytes = (text: string) => new TextEncoder().encode(text);
  const signed = (body: string) => `sha1=${signKongEvent(body, SECRET)}`;
  class Gone extends Error {}

  function receiver(provision: (id: string) => Promise<unknown> = async (id) => ({ id })) {
    const calls: string[] = [];
    const receive = createKongEventReceiver({
      secret: SECRET,
      provision: (id) => {
        calls.push(id);
        return provision(id);
      },
      isProvisionableStatus: provisionable,
      isNothingToDo: (error) => error instanceof Gone,
    });
    return { receive, calls };
  }

  it('refuses a secret shorter than 16 characters', () => {
    expect(() => createKongEventReceiver({ secret: 'short-secret', provision: async () => 0, isProvisionableStatus: provisionable, isNothingToDo: () => false })).toThrow(KongEventSecretError);
  });

  it('acts on a sha1= signed create by developer id, and answers a replay from memory without acting', async () => {
    const { receive, calls } = receiver();
    const body = JSON.stringify({ operation: 'create', entity: { id: 'dev-1', email: 'a@b.c', status: 0 }, schema: 'developers', event: 'developers', source: 'crud' });
    expect(await receive(bytes(body), signed(body))).toEqual({ status: 200, body: { action: 'provisioned', result: { id: 'dev-1' } } });
    expect(await receive(bytes(body), signed(body))).toEqual({ status: 200, body: { action: 'duplicate' } });
    expect(calls).toEqual(['dev-1']);
    await expect(receive(bytes(body), `sha1=${signKongEvent(body, 'another-secret-0000')}`)).rejects.toMatchObject({ status: 401, code: 'invalid_signature' });
  });

  it('answers pings 200 without provisioning', async () => {
    const { receive, calls } = receiver();
    const ping = JSON.stringify({ source: 'kong:event_hooks', event: 'ping', operation: 'create', event_hooks: { id: 'h', config: { secret: SECRET } } });
    expect(await receive(bytes(ping), signed(ping))).toEqual({ status: 200, body: { action: 'ping' } });
    expect(calls).toEqual([]);
  });

  it('does not remember a failed event (a retry is acted on), and ignores "nothing to do" errors', async () => {
    let attempt = 0;
    const { receive, calls } = receiver(async () => {
      attempt++;
      if (attempt === 1) throw new Error('stripe down');
      throw new Gone('developer dev-2 not found');
    });
    const body = JSON.stringify({ operation: 'create', entity: { id: 'dev-2', status: 0 }, event: 'developers', source: 'crud' });
    await expect(receive(bytes(body), signed(body))).rejects.toThrow('stripe down');
    expect(await receive(bytes(body), signed(body))).toEqual({ status: 200, body: { action: 'ignored', reason: 'developer dev-2 not found' } });
    expect(calls).toEqual(['dev-2', 'dev-2']);
  });

  it('forgets the oldest digests beyond its capacity', () => {
    const seen = new SeenEvents(2);
    for (const d of ['a', 'b', 'c']) seen.remember(d);
    expect([seen.has('a'), seen.has('b'), seen.has('c')]).toEqual([false, true, true]);
  });
});

describe('events of another workspace (Kong hooks are global)', () => {
  let kong: RunningKongEmulator;
  beforeAll(async () => {
    kong = await startKongEmulator({ workspaces: ['team-b'] });
    for (const ws of ['default', 'team-b']) kong.state.patchWorkspaceConfig(ws, { portal: true });
  });
  afterAll(async () => {
    await kong.close();
  });

  it('never provisions our developer for a same-email developer created in another workspace', async () => {
    const ours = kong.state.addDeveloper('default', { email: 'twin@example.com', status: 0 });
    const client = new KongAdminClient({ adminUrl: kong.adminUrl, workspace: 'default' });
    const provisioned: string[] = [];
    const receive = createKongEventReceiver({
      secret: 'a-secret-of-16+chars',
      // What the provisioner does: read the developer by the event's id in OUR workspace.
      provision: async (id) => {
        const developer = await client.getDeveloper(id);
        if (!developer) throw new Error('developer_not_found');
        provisioned.push(developer.email);
        return developer.id;
      },
      isProvisionableStatus: provisionable,
      isNothingToDo: (error) => (error as Error).message === 'developer_not_found',
    });
    // Capture what Kong would post for a team-b developer with the same email.
    const hook = await fetch(`${kong.adminUrl}/event-hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'crud', event: 'developers', handler: 'webhook', config: { url: 'http://127.0.0.1:9/', secret: 'a-secret-of-16+chars' } }),
    });
    expect(hook.status).toBe(201);
    await fetch(`${kong.adminUrl}/team-b/developers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'twin@example.com', status: 0 }) });
    await kong.settle();
    const delivery = kong.state.hookDeliveries.find((d) => d.event === 'developers');
    if (!delivery) throw new Error('no developers event was posted');
    const answer = await receive(new TextEncoder().encode(delivery.body), delivery.signature);
    expect(answer).toEqual({ status: 200, body: { action: 'ignored', reason: 'developer_not_found' } });
    expect(provisioned).toEqual([]);
    expect(ours.status).toBe(0);
  });
});
