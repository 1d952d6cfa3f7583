/**
 * "My account" pages of the hosted signup (same sub-app family, same page kit):
 * - GET  /signup/account          email form (CSRF)
 * - POST /signup/account          rate limited; emails a link when the address has a key; same answer, at
 *                                  the same speed, otherwise (lookup and email run after the answer)
 * - GET  /signup/account/open     confirm button (mail scanners only GET)
 * - POST /signup/account/open     the account page: replace the key, manage billing
 * - POST /signup/account/rotate   a new key shown once, the old ones removed; the link is then used up
 * - POST /signup/account/billing  303 to a Stripe customer portal session
 * - POST /signup/account/spend-cap the developer's monthly spend cap (empty removes it); the account page again
 * The link routes (open, rotate, billing) are rate limited per client address and per link.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { rateLimiter } from 'hono-rate-limiter';
import { z } from 'zod';
import type { AccountService } from './account-service.ts';
import { parseCapAmount } from '../core/spend-cap.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import type { PageKit } from './page-kit.ts';
import { accountPage, accountRequestPage, confirmPage, keyPage, type Branding } from './signup-pages.ts';

interface AccountRoutesDeps {
  service: AccountService;
  kit: PageKit;
  brand: Branding;
  apiUrl: string | undefined;
  keyHeader?: string | undefined;
  requestsPerMinute: number;
  /** Runs the account lookup and the email after the answer. */
  background: BackgroundTasks;
  /** Per address and per link budgets of the link routes (link-limits.ts), shared with the signup routes. */
  linkLimits: MiddlewareHandler;
}

const BODY_LIMIT = 4 * 1024;
const emailSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.email().max(254));

/** POST /signup/account/spend-cap: the cap saved and the account page again; a bad amount writes nothing and marks the field. */
function saveSpendCap(deps: AccountRoutesDeps) {
  const { kit, brand } = deps;
  return async (c: Context) => {
    const body = await c.req.parseBody();
    const token = typeof body.token === 'string' ? body.token : '';
    try {
      let cap: number | null;
      try {
        cap = parseCapAmount(typeof body.spend_cap === 'string' ? body.spend_cap : '');
      } catch (error) {
        // Nothing written: the page again, the field marked.
        if (!(error instanceof ProvisionError)) throw error;
        const account = await deps.service.open(token);
        return kit.html(c, (nonce) => accountPage(brand, nonce, token, { ...account, spendCapError: error.message }), 400);
      }
      const account = await deps.service.setSpendCap(token, cap);
      return kit.html(c, (nonce) => accountPage(brand, nonce, token, account));
    } catch (error) {
      return kit.failure(c, error, 'account');
    }
  };
}

export function createAccountRoutes(deps: AccountRoutesDeps): Hono {
  const app = new Hono();
  const { kit, brand } = deps;
  const limit = bodyLimit({ maxSize: BODY_LIMIT, onError: (c) => kit.message(c, 413, 'Form too large', ['Go back and try again.']) });
  const tokenOf = async (c: Context) => {
    const body = await c.req.parseBody();
    return typeof body.token === 'string' ? body.token : '';
  };

  app.get('/signup/account', (c) => kit.html(c, (nonce) => accountRequestPage(brand, nonce, kit.csrfFor(c))));

  app.post(
    '/signup/account',
    rateLimiter({
      windowMs: 60_000,
      limit: deps.requestsPerMinute,
      standardHeaders: 'draft-6',
      keyGenerator: (c) => `account:${kit.clientKey(c)}`,
      handler: (c) => kit.message(c, 429, 'Too many attempts', ['Wait a minute and try again.']),
    }),
    limit,
    async (c) => {
      const body = await c.req.parseBody();
      if (!kit.csrfValid(c, body.csrf)) return kit.html(c, (nonce) => accountRequestPage(brand, nonce, kit.csrfFor(c), 'The form expired; send it again.'), 403);
      const email = emailSchema.safeParse(typeof body.email === 'string' ? body.email : '');
      if (!email.success) return kit.html(c, (nonce) => accountRequestPage(brand, nonce, kit.csrfFor(c), 'Enter a valid email, like name@example.com.'), 400);
      if (kit.tooManyEmails(email.data)) return kit.message(c, 429, 'Too many emails', ['We already sent several emails to this address in the last hour. Use the newest link.']);
      // Looked up and sent after the answer: its time must not tell whether the address has a key.
      deps.background.start('account link', () => deps.service.requestLink(email.data));
      return kit.message(c, 200, 'Check your email', [`If ${email.data} has an API key, we sent it a link to manage it.`]);
    },
  );

  app.get('/signup/account/open', deps.linkLimits, async (c) => {
    const token = c.req.query('token') ?? '';
    try {
      const account = await deps.service.open(token);
      return kit.html(c, (nonce) => confirmPage(brand, nonce, token, account.email, 'account', account.used));
    } catch (error) {
      return kit.failure(c, error, 'account');
    }
  });

  app.post('/signup/account/open', limit, deps.linkLimits, async (c) => {
    const token = await tokenOf(c);
    try {
      const account = await deps.service.open(token);
      return kit.html(c, (nonce) => accountPage(brand, nonce, token, { email: account.email, planName: account.planName, billing: account.billing, used: account.used, confirmPaymentUrl: account.confirmPaymentUrl, usage: account.usage, spendCap: account.spendCap, usageAlert: account.usageAlert }));
    } catch (error) {
      return kit.failure(c, error, 'account');
    }
  });

  app.post('/signup/account/rotate', limit, deps.linkLimits, async (c) => {
    try {
      const replaced = await deps.service.rotateKey(await tokenOf(c));
      return kit.html(c, (nonce) => keyPage(brand, nonce, replaced.key, deps.apiUrl, `${kit.signupUrl}/account`, deps.keyHeader, { oldKeyStopped: replaced.oldKeyStopped }));
    } catch (error) {
      return kit.failure(c, error, 'account');
    }
  });

  app.post('/signup/account/spend-cap', limit, deps.linkLimits, saveSpendCap(deps));

  app.post('/signup/account/billing', limit, deps.linkLimits, async (c) => {
    try {
      return c.redirect(await deps.service.billingPortalUrl(await tokenOf(c)), 303);
    } catch (error) {
      return kit.failure(c, error, 'account');
    }
  });

  return app;
}
