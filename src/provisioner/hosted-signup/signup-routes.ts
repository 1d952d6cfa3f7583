/**
 * The hosted signup's HTTP face (a Hono sub-app mounted by app.ts when SIGNUP_MODE=hosted):
 * - GET  /signup           the form (plans with price summaries, terms, branding); sets the CSRF cookie
 * - POST /signup           form POST: CSRF (double submit: cookie + signed field), rate limits per
 *                          client address and per email, validation; then emails a link. Writes nothing.
 * - GET  /signup/verify    the link lands on a confirm button (mail scanners open links, never POST)
 * - POST /signup/verify    creates everything once; Checkout first when the plan collects by card
 * - GET  /signup/complete  back from Checkout: the key once Stripe has a payment method
 * Every answer is HTML, `no-store`, with a nonce CSP.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { rateLimiter } from 'hono-rate-limiter';
import { randomBytes } from 'node:crypto';
import { BoundedMap } from '../../shared/bounded-map.ts';
import { defaultPlan, type PlansFile } from '../../shared/plans.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { rateLimitKey, resolveClientAddress, type TrustedProxies } from '../client-address.ts';
import { ProvisionError } from '../errors.ts';
import { resolvePlans, toPublicPlans, type PriceResolver } from '../plan-prices.ts';
import type { ProvisionLogger } from '../provision-log.ts';
import { SignupTokenError, type TokenSigner } from './signed-token.ts';
import { readSignupForm } from './signup-form.ts';
import { confirmPage, keyPage, messagePage, signupFormPage, type Branding, type FormView } from './signup-pages.ts';
import { SignupError, type ConfirmOutcome, type SignupService } from './signup-service.ts';

export interface SignupRoutesDeps {
  service: SignupService;
  signer: TokenSigner;
  plans: PlansFile;
  prices: PriceResolver;
  brand: Branding;
  apiUrl: string | undefined;
  /** Cookies get `Secure` when browsers reach us over https. */
  publicUrl: string;
  trustedProxies: TrustedProxies;
  requestsPerMinute: number;
  emailsPerHour: number;
  logger: ProvisionLogger;
  now?: () => number;
}

export const SIGNUP_BODY_LIMIT = 4 * 1024;
const CSRF_COOKIE = 'kpm_signup_csrf';
const CSRF_TTL_SECONDS = 2 * 60 * 60;

export function createSignupRoutes(deps: SignupRoutesDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const secure = deps.publicUrl.startsWith('https:');
  // Link emails sent per address in the last hour (hashed: no raw emails kept in memory longer than needed).
  const emailsSent = new BoundedMap<string, number[]>({ ttlMs: 60 * 60_000, maxEntries: 50_000, now });
  const planIds = deps.plans.plans.map((plan) => plan.id);

  const html = (c: Context, body: (nonce: string) => string, status: 200 | 400 | 402 | 403 | 404 | 409 | 410 | 413 | 429 | 500 | 502 = 200) => {
    const nonce = randomBytes(16).toString('base64');
    c.header('cache-control', 'no-store');
    c.header('content-security-policy', `default-src 'none'; img-src https: http:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'`);
    c.header('x-content-type-options', 'nosniff');
    return c.html(body(nonce), status);
  };
  const message = (c: Context, status: Parameters<typeof html>[2], title: string, lines: string[], action?: { href: string; label: string }) =>
    html(c, (nonce) => messagePage(deps.brand, nonce, title, lines, action), status);

  async function publicPlans() {
    return toPublicPlans(await resolvePlans(deps.plans, deps.prices), defaultPlan(deps.plans)?.id);
  }

  /** The CSRF cookie (kept if present) and a signed field bound to it. */
  function csrfFor(c: Context): string {
    let cookie = getCookie(c, CSRF_COOKIE);
    if (!cookie || !/^[\w-]{32,64}$/.test(cookie)) {
      cookie = randomBytes(32).toString('base64url');
      setCookie(c, CSRF_COOKIE, cookie, { httpOnly: true, sameSite: 'Lax', secure, path: '/signup', maxAge: CSRF_TTL_SECONDS });
    }
    return deps.signer.sign('csrf', { c: sha256Hex(cookie) }, CSRF_TTL_SECONDS);
  }

  function csrfValid(c: Context, field: unknown): boolean {
    const cookie = getCookie(c, CSRF_COOKIE);
    if (!cookie || typeof field !== 'string') return false;
    try {
      return deps.signer.verify('csrf', field).c === sha256Hex(cookie);
    } catch {
      return false;
    }
  }

  async function form(c: Context, view: Partial<FormView>, status: 200 | 400 | 403 = 200) {
    const full: FormView = { csrf: csrfFor(c), plans: await publicPlans(), values: view.values ?? {}, errors: view.errors ?? {} };
    return html(c, (nonce) => signupFormPage(deps.brand, nonce, full), status);
  }

  function failure(c: Context, error: unknown) {
    if (error instanceof SignupTokenError)
      return message(c, error.code === 'token_expired' ? 410 : 400, error.code === 'token_expired' ? 'Link expired' : 'Link not valid', [error.message], { href: 'signup', label: 'Sign up again' });
    if (error instanceof SignupError) return message(c, error.status, error.code === 'link_used' ? 'Link already used' : 'Signup not possible', [error.message]);
    if (error instanceof ProvisionError && error.status < 500) return message(c, 409, 'Signup not possible', [error.message]);
    deps.logger.error({ event: 'signup_failed', code: error instanceof ProvisionError ? error.code : 'internal_error', message: (error as Error).message });
    return message(c, 502, 'Something went wrong', ['We could not finish your signup just now. Nothing was charged. Open the link from your email again in a minute.']);
  }

  function outcomePage(c: Context, outcome: ConfirmOutcome) {
    if (outcome.kind === 'checkout') return c.redirect(outcome.url, 303);
    return html(c, (nonce) => keyPage(deps.brand, nonce, outcome.key, deps.apiUrl));
  }

  function tooManyEmails(email: string): boolean {
    const key = sha256Hex(email);
    const cutoff = now() - 60 * 60_000;
    const recent = (emailsSent.get(key) ?? []).filter((at) => at > cutoff);
    if (recent.length >= deps.emailsPerHour) return true;
    emailsSent.set(key, [...recent, now()]);
    return false;
  }

  app.get('/signup', (c) => form(c, {}));

  app.post(
    '/signup',
    rateLimiter({
      windowMs: 60_000,
      limit: deps.requestsPerMinute,
      standardHeaders: 'draft-6',
      keyGenerator: (c) => {
        let socket: string | undefined;
        try {
          socket = getConnInfo(c).remote.address;
        } catch {
          socket = undefined;
        }
        return `signup:${rateLimitKey(resolveClientAddress(socket, c.req.header('x-forwarded-for'), deps.trustedProxies))}`;
      },
      handler: (c) => message(c, 429, 'Too many attempts', ['Too many signups from your network. Wait a minute and try again.']),
    }),
    bodyLimit({ maxSize: SIGNUP_BODY_LIMIT, onError: (c) => message(c, 413, 'Form too large', ['The form sent more than we accept. Go back and shorten your entries.']) }),
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return message(c, 400, 'Not a form', ['Send the signup form from the signup page.']);
      const body = await c.req.parseBody();
      if (!csrfValid(c, body.csrf)) return form(c, { errors: { form: 'The form expired or was not sent from this page. Check your entries and send it again.' } }, 403);
      const read = readSignupForm(body, { planIds, termsRequired: deps.brand.termsUrl !== undefined });
      if (!read.ok) return form(c, { values: read.values, errors: read.errors }, 400);
      if (tooManyEmails(read.request.email))
        return message(c, 429, 'Too many emails', [`We already sent several emails to ${read.request.email} in the last hour. Use the newest link, or try again later.`]);
      try {
        await deps.service.requestLink(read.request);
      } catch (error) {
        return failure(c, error);
      }
      // The same answer whether or not the address already has a key: the email says which.
      return message(c, 200, 'Check your email', [`We sent an email to ${read.request.email}. Open the link in it to continue.`, 'The link works once. It did not arrive? Check your spam folder.']);
    },
  );

  app.get('/signup/verify', (c) => {
    const token = c.req.query('token') ?? '';
    try {
      const email = deps.service.peek(token);
      return html(c, (nonce) => confirmPage(deps.brand, nonce, token, email));
    } catch (error) {
      return failure(c, error);
    }
  });

  app.post('/signup/verify', bodyLimit({ maxSize: SIGNUP_BODY_LIMIT, onError: (c) => message(c, 413, 'Form too large', ['Open the link from the email again.']) }), async (c) => {
    const body = await c.req.parseBody();
    try {
      return outcomePage(c, await deps.service.confirm(typeof body.token === 'string' ? body.token : ''));
    } catch (error) {
      return failure(c, error);
    }
  });

  app.get('/signup/complete', async (c) => {
    try {
      return outcomePage(c, await deps.service.completeCheckout(c.req.query('token') ?? ''));
    } catch (error) {
      return failure(c, error);
    }
  });

  return app;
}
