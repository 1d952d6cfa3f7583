import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { KongConsumer, KongKeyCredential } from '../../kong/kong-consumers.ts';
import { createAccountService } from './account-service.ts';
import { signupConsumerTags } from './consumer-directory.ts';
import { accountPage } from './signup-pages.ts';
import { createTokenSigner } from './signed-token.ts';

const consumer: KongConsumer = { id: 'dev-1', username: 'dev@example.com', custom_id: null, tags: signupConsumerTags({ name: 'Dev', plan: 'starter' }), created_at: 0 };
const key: KongKeyCredential = { id: 'dev-1', key: 'k'.repeat(40), consumer: { id: 'dev-1' }, created_at: 0 };

/** A gateway that cannot replace keys (AWS): any write to keys is a test failure. */
function service(replacesKeys: boolean | undefined) {
  const writes: string[] = [];
  const signer = createTokenSigner('s'.repeat(40));
  const account = createAccountService({
    // No customer yet: the page opens without billing figures.
    stripe: { customers: { list: async () => ({ data: [], has_more: false }) } } as unknown as Stripe,
    consumers: {
      get: async () => consumer,
      listKeys: async () => [key],
      createKey: async () => (writes.push('createKey'), key),
      deleteKey: async () => void writes.push('deleteKey'),
    },
    provisioner: { provisionDeveloper: async () => { throw new Error('not reached'); } },
    signer,
    mailer: { send: async () => undefined, close: async () => undefined } as never,
    publicUrl: 'http://127.0.0.1',
    productName: 'Acme',
    linkTtlMinutes: 30,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined } as never,
    ...(replacesKeys === undefined ? {} : { replacesKeys }),
  });
  return { account, writes, token: signer.sign('account', { e: consumer.username, k: 'x' }, 600) };
}

describe('"My account" on a gateway without key replacement', () => {
  it('refuses a rotation with key_replacement_unsupported before any key write', async () => {
    const { account, writes, token } = service(false);
    await expect(account.rotateKey(token)).rejects.toMatchObject({ code: 'key_replacement_unsupported', status: 409 });
    expect(writes).toEqual([]);
  });

  it('the view says the key is not replaceable, and the page shows no button but whom to ask', async () => {
    const { account, token } = service(false);
    const view = await account.open(token);
    expect(view.replaceable).toBe(false);
    const page = accountPage({ productName: 'Acme', logoUrl: undefined, accentColor: '#000', termsUrl: undefined }, 'n', token, view);
    expect(page).not.toContain('action="rotate"');
    expect(page).toContain('ask the API provider');
  });

  it('Kong (default) still offers the replacement', async () => {
    const { account, token } = service(undefined);
    const view = await account.open(token);
    expect(view.replaceable).toBe(true);
    const page = accountPage({ productName: 'Acme', logoUrl: undefined, accentColor: '#000', termsUrl: undefined }, 'n', token, { ...view, used: false });
    expect(page).toContain('action="rotate"');
  });
});
