/**
 * "My account" on a gateway that stages a replacement key (AWS): the order of the steps is the
 * guarantee (the new key's Moesif user and access before it is shown, the old key deleted last), and
 * a failure before the end leaves the old key in place and deletes nothing.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { KongConsumer, KongKeyCredential } from '../../kong/kong-consumers.ts';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { createAccountService } from './account-service.ts';
import { signupConsumerTags } from './consumer-directory.ts';
import { accountPage } from './signup-pages.ts';
import { createTokenSigner } from './signed-token.ts';
import { sha256Hex } from '../../shared/sha256.ts';

const consumer: KongConsumer = { id: 'dev-1', username: 'dev@example.com', custom_id: 'key-1', tags: signupConsumerTags({ name: 'Dev', plan: 'starter' }), created_at: 0 };
const oldKey: KongKeyCredential = { id: 'key-1', key: '', consumer: { id: 'dev-1' }, created_at: 0 };

function service(options: { failProvisioning?: boolean; failDelete?: boolean } = {}) {
  const steps: string[] = [];
  const signer = createTokenSigner('s'.repeat(40));
  const account = createAccountService({
    stripe: { customers: { list: async () => ({ data: [], has_more: false }) } } as unknown as Stripe,
    consumers: {
      get: async () => consumer,
      listKeys: async () => [oldKey],
      stageKey: async (id) => (steps.push(`stage ${id}`), { ...consumer, custom_id: 'key-2' }),
      createKey: async (id) => (steps.push(`show ${id}`), { id: 'key-2', key: 'n'.repeat(40), consumer: { id }, created_at: 1 }),
      deleteKey: async (id, keyId) => {
        steps.push(`delete ${id} ${keyId}`);
        if (options.failDelete) throw new Error('AWS is down');
      },
    },
    provisioner: {
      provisionDeveloper: async (developer) => {
        steps.push(`provision ${(developer as KongDeveloper).id} as ${(developer as KongDeveloper).custom_id}`);
        if (options.failProvisioning) throw new Error('Stripe is down');
        return {} as never;
      },
    },
    access: { syncDeveloper: async (developer) => (steps.push(`access ${(developer as KongDeveloper).custom_id}`), undefined) },
    signer,
    mailer: { send: async () => undefined, close: async () => undefined } as never,
    publicUrl: 'http://127.0.0.1',
    productName: 'Acme',
    linkTtlMinutes: 30,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined } as never,
  });
  const token = signer.sign('account', { e: consumer.username, k: sha256Hex(oldKey.id) }, 600);
  return { account, steps, token };
}

describe('"My account" key replacement on a gateway that stages the new key (AWS)', () => {
  it('stages, writes the Moesif user and access of the new key id, shows it, then deletes the old key', async () => {
    const { account, steps, token } = service();
    expect(await account.rotateKey(token)).toEqual({ key: 'n'.repeat(40), oldKeyStopped: true });
    expect(steps).toEqual(['stage dev-1', 'provision dev-1 as key-2', 'access key-2', 'show dev-1', 'delete dev-1 key-1']);
  });

  it('a failed delete of the old key still answers the new key, saying the old one was not stopped', async () => {
    const { account, steps, token } = service({ failDelete: true });
    expect(await account.rotateKey(token)).toEqual({ key: 'n'.repeat(40), oldKeyStopped: false });
    expect(steps.at(-1)).toBe('delete dev-1 key-1');
  });

  it('a failure before the key is shown deletes nothing (the old key keeps working)', async () => {
    const { account, steps, token } = service({ failProvisioning: true });
    await expect(account.rotateKey(token)).rejects.toThrow('Stripe is down');
    expect(steps).toEqual(['stage dev-1', 'provision dev-1 as key-2']);
  });

  it('the account page offers the replacement', async () => {
    const { account, token } = service();
    const view = await account.open(token);
    expect(view.used).toBe(false);
    const page = accountPage({ productName: 'Acme', logoUrl: undefined, accentColor: '#000', termsUrl: undefined }, 'n', token, view);
    expect(page).toContain('action="rotate"');
    expect(page).toContain('Replace my API key');
  });
});
