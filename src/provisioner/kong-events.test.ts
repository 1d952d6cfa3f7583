import { describe, expect, it } from 'vitest';
import { decideKongEvent, signKongEvent, verifyKongSignature } from './kong-events.ts';

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
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'create', entity: dev(1) }, provisionable)).toEqual({ action: 'provision', developerId: 'dev-1' });
  });

  it('ignores a created developer that is rejected', () => {
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'create', entity: dev(2) }, provisionable).action).toBe('ignore');
  });

  it('provisions an update that makes the developer provisionable, and only that', () => {
    const update = (from: number, to: number) => decideKongEvent({ source: 'crud', event: 'developers', operation: 'update', entity: dev(to), old_entity: dev(from) }, provisionable);
    expect(update(4, 0).action).toBe('provision');
    expect(update(1, 0).action).toBe('ignore');
    expect(update(0, 3).action).toBe('ignore');
  });

  it('ignores other sources, events and operations', () => {
    expect(decideKongEvent({ source: 'crud', event: 'consumers', operation: 'create', entity: dev(0) }, provisionable).action).toBe('ignore');
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'delete', entity: dev(0) }, provisionable).action).toBe('ignore');
    expect(decideKongEvent({ source: 'crud', event: 'developers', operation: 'create' }, provisionable).action).toBe('ignore');
  });
});
