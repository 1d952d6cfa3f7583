/**
 * POST /signup/account over the real account service with a stand-in Kong and an SMTP transport
 * that blocks until the test releases it: the answer must not wait for the lookup or the email,
 * for an address with a key and for one without (issue 17.4, the timing oracle). No clock is read.
 */
import { describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import type { KongConsumer, KongKeyCredential } from '../../kong/kong-consumers.ts';
import { silentLogger } from '../../shared/provision-log.ts';
import { createAccountRoutes } from './account-routes.ts';
import { createAccountService } from './account-service.ts';
import { createBackgroundTasks } from './background-tasks.ts';
import { signupConsumerTags } from './consumer-directory.ts';
import { createLinkLimits } from './link-limits.ts';
import { createPageKit } from './page-kit.ts';
import { createTokenSigner } from './signed-token.ts';
import type { OutgoingMail, SignupMailer } from '../../shared/smtp-mailer.ts';

const KEYED: KongConsumer = { id: 'c-1', username: 'has-key@example.com', custom_id: null, tags: signupConsumerTags({ name: 'Has Key', plan: 'starter' }), created_at: 1 };
const KEY: KongKeyCredential = { id: 'k-1', key: 'k'.repeat(32), consumer: { id: 'c-1' }, created_at: 1 };

/** A mail transport that holds every send until released. */
function blockingMailer() {
  const sent: OutgoingMail[] = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const mailer: SignupMailer = {
    async send(mail) {
      await released;
      sent.push(mail);
    },
    close() {},
  };
  return { mailer, sent, release };
}

function accountApp(mailer: SignupMailer, logged: unknown[]) {
  const signer = createTokenSigner('account-routes-test-secret-0123456789abcdef');
  const logger = { ...silentLogger, error: (fields: unknown) => void logged.push(fields) };
  const brand = { productName: 'API', logoUrl: undefined, accentColor: '#123456', termsUrl: undefined };
  const kit = createPageKit({ signer, brand, publicUrl: 'http://127.0.0.1', trustedProxies: { kind: 'none' }, emailsPerHour: 3, logger });
  const service = createAccountService({
    stripe: {} as Stripe,
    consumers: {
      get: async (email) => (email === KEYED.username ? KEYED : undefined),
      listKeys: async (id) => (id === KEYED.id ? [KEY] : []),
      createKey: () => Promise.reject(new Error('not used')),
      deleteKey: () => Promise.reject(new Error('not used')),
    },
    provisioner: { provisionDeveloper: () => Promise.reject(new Error('not used')) },
    signer,
    mailer,
    publicUrl: 'http://127.0.0.1',
    productName: 'API',
    linkTtlMinutes: 30,
    logger,
  });
  const background = createBackgroundTasks({ logger });
  const linkLimits = createLinkLimits({ kit, perAddressPerMinute: 100 });
  const app = createAccountRoutes({ service, kit, brand, apiUrl: undefined, requestsPerMinute: 100, background, linkLimits });
  return { app, background };
}

async function ask(app: ReturnType<typeof accountApp>['app'], email: string) {
  const form = await app.request('/signup/account');
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return app.request('/signup/account', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ csrf, email }).toString() });
}

describe('POST /signup/account answers before the email goes out', () => {
  it('the same page, before the transport is released, for an address with a key and one without', async () => {
    const { mailer, sent, release } = blockingMailer();
    const logged: unknown[] = [];
    const { app, background } = accountApp(mailer, logged);
    const known = await ask(app, 'has-key@example.com');
    const unknown = await ask(app, 'nobody@example.com');
    // Both answered while the send is still held (awaiting it would never have returned).
    expect(sent).toEqual([]);
    expect([known.status, unknown.status]).toEqual([200, 200]);
    const pageOf = async (response: Response, email: string) => (await response.text()).replaceAll(email, '<email>').replace(/nonce-[^']+'|nonce="[^"]+"/g, 'nonce');
    expect(await pageOf(known, 'has-key@example.com')).toBe(await pageOf(unknown, 'nobody@example.com'));

    release();
    await background.idle();
    expect(sent.map((mail) => mail.to)).toEqual(['has-key@example.com']);
    expect(sent[0]?.text).toMatch(/\/signup\/account\/open\?token=/);
    expect(logged).toEqual([]);
  });

  it('a failing transport is logged without the email; the answer was already the same', async () => {
    const logged: unknown[] = [];
    const failing: SignupMailer = { send: () => Promise.reject(new Error('550 mailbox has-key@example.com unavailable')), close() {} };
    const { app, background } = accountApp(failing, logged);
    expect((await ask(app, 'has-key@example.com')).status).toBe(200);
    await background.idle();
    expect(JSON.stringify(logged)).toContain('signup_background_failed');
    expect(JSON.stringify(logged)).not.toContain('has-key@example.com');
  });
});
