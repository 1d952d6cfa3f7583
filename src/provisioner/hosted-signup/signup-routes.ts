/**
 * The hosted signup's HTTP face (a Hono sub-app mounted by app.ts when SIGNUP_MODE=hosted):
 * - GET  /signup           the form (plans with price summaries, terms, branding); sets the CSRF cookie
 * - POST /signup           form POST: CSRF (double submit: cookie + signed field), rate limits per
 *                          client address and per email, validation; then emails a link (after the
 *                          answer, so its time tells nothing about the address). Writes nothing.
 * - GET  /signup/verify    the link lands on a confirm button (mail scanners open links, never POST)
 * - POST /signup/verify    creates everything once; Checkout first when the plan collects by card
 * - GET  /signup/complete  back from Checkout: the key once Stripe has a payment method
 * Both rate limited per client address and per link (link-limits.ts).
 * Every answer is HTML, `no-store`, with a nonce CSP.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { rateLimiter } from 'hono-rate-limiter';
import { defaultPlan, selectablePlans, type PlansFile } from '../../shared/plans.ts';
import type { TrustedProxies } from '../settings/trusted-proxies.ts';
import { resolvePlans, toPublicPlans, type PriceResolver } from '../core/plan-prices.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import { createBackgroundTasks, type BackgroundTasks } from './background-tasks.ts';
import { createLinkLimits } from './link-limits.ts';
import { createPageKit, type PageKit } from './page-kit.ts';
import type { TokenSigner } from './signed-token.ts';
import { readSignupForm } from './signup-form.ts';
import { confirmPage, keyPage, signupFormPage, type Branding, type FormView } from './signup-pages.ts';
import type { ConfirmOutcome, SignupService } from './signup-service.ts';

interface SignupRoutesDeps {
  service: SignupService;
  signer: TokenSigner;
  plans: PlansFile;
  prices: PriceResolver;
  brand: Branding;
  apiUrl: string | undefined;
  /** The header the gateway reads the key from (default apikey: Kong). */
  keyHeader?: string | undefined;
  /** Cookies get `Secure` when browsers reach us over https. */
  publicUrl: string;
  trustedProxies: TrustedProxies;
  requestsPerMinute: number;
  emailsPerHour: number;
  logger: ProvisionLogger;
  now?: () => number;
  /** Shared with the account routes (one per-email limit); default a new one. */
  kit?: PageKit;
  /** Runs the lookup and the email of POST /signup after the answer; default a new one. */
  background?: BackgroundTasks;
  /** Budgets of the link routes, shared with the account routes; default new ones. */
  linkLimits?: MiddlewareHandler;
}

const SIGNUP_BODY_LIMIT = 4 * 1024;

/** POST /signup's budget per client address. */
function signupRateLimit(requestsPerMinute: number, kit: PageKit) {
  return rateLimiter({
    windowMs: 60_000,
    limit: requestsPerMinute,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => kit.clientKey(c),
    handler: (c) => kit.message(c, 429, 'Too many attempts', ['Too many signups from your network. Wait a minute and try again.']),
  });
}

export function createSignupRoutes(deps: SignupRoutesDeps): Hono {
  const app = new Hono();
  const kit = deps.kit ?? createPageKit(deps);
  const background = deps.background ?? createBackgroundTasks({ logger: deps.logger });
  const linkLimits = deps.linkLimits ?? createLinkLimits({ kit, perAddressPerMinute: deps.requestsPerMinute });
  const { html, message, failure } = kit;
  // Private plans (invoice, free) are the admin's to assign: neither shown nor accepted here.
  const offered = { ...deps.plans, plans: selectablePlans(deps.plans) };
  const planIds = offered.plans.map((plan) => plan.id);

  async function publicPlans() {
    return toPublicPlans(await resolvePlans(offered, deps.prices), defaultPlan(deps.plans)?.id);
  }

  async function form(c: Context, view: Partial<FormView>, status: 200 | 400 | 403 = 200) {
    const full: FormView = { csrf: kit.csrfFor(c), plans: await publicPlans(), values: view.values ?? {}, errors: view.errors ?? {} };
    return html(c, (nonce) => signupFormPage(deps.brand, nonce, full), status);
  }

  function outcomePage(c: Context, outcome: ConfirmOutcome) {
    if (outcome.kind === 'checkout') return c.redirect(outcome.url, 303);
    return html(c, (nonce) => keyPage(deps.brand, nonce, outcome.key, deps.apiUrl, `${kit.signupUrl}/account`, deps.keyHeader));
  }

  app.get('/signup', (c) => form(c, {}));

  app.post(
    '/signup',
    signupRateLimit(deps.requestsPerMinute, kit),
    bodyLimit({ maxSize: SIGNUP_BODY_LIMIT, onError: (c) => message(c, 413, 'Form too large', ['The form sent more than we accept. Go back and shorten your entries.']) }),
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return message(c, 400, 'Not a form', ['Send the signup form from the signup page.']);
      const body = await c.req.parseBody();
      if (!kit.csrfValid(c, body.csrf)) return form(c, { errors: { form: 'The form expired or was not sent from this page. Check your entries and send it again.' } }, 403);
      const read = readSignupForm(body, { planIds, termsRequired: deps.brand.termsUrl !== undefined });
      if (!read.ok) return form(c, { values: read.values, errors: read.errors }, 400);
      if (kit.tooManyEmails(read.request.email))
        return message(c, 429, 'Too many emails', [`We already sent several emails to ${read.request.email} in the last hour. Use the newest link, or try again later.`]);
      // The same answer, at the same speed, whether or not the address already has a key: the
      // lookup and the email run after it (their time would tell), and the email says which.
      background.start('signup link', () => deps.service.requestLink(read.request));
      return message(c, 200, 'Check your email', [`We sent an email to ${read.request.email}. Open the link in it to continue.`, 'The link works once. It did not arrive? Check your spam folder.']);
    },
  );

  app.get('/signup/verify', async (c) => {
    const token = c.req.query('token') ?? '';
    try {
      const email = await deps.service.peek(token);
      return html(c, (nonce) => confirmPage(deps.brand, nonce, token, email));
    } catch (error) {
      return failure(c, error);
    }
  });

  app.post('/signup/verify', bodyLimit({ maxSize: SIGNUP_BODY_LIMIT, onError: (c) => message(c, 413, 'Form too large', ['Open the link from the email again.']) }), linkLimits, async (c) => {
    const body = await c.req.parseBody();
    try {
      return outcomePage(c, await deps.service.confirm(typeof body.token === 'string' ? body.token : ''));
    } catch (error) {
      return failure(c, error);
    }
  });

  app.get('/signup/complete', linkLimits, async (c) => {
    try {
      return outcomePage(c, await deps.service.completeCheckout(c.req.query('token') ?? ''));
    } catch (error) {
      return failure(c, error);
    }
  });

  return app;
}
