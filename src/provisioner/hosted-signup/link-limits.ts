/**
 * Rate limits of the routes an emailed link opens (POST /signup/verify, GET /signup/complete,
 * GET|POST /signup/account/open, POST /signup/account/{rotate,billing}): each costs Kong and
 * Stripe calls out of budgets every signup shares, so one link hammered from many threads must
 * not slow everyone else (issue 17.6). Two budgets, both must allow: per client address (as
 * POST /signup, TRUSTED_PROXIES decides whose X-Forwarded-For counts) and per link (a digest of
 * its token, so one link cannot be spread over many addresses). One instance serves every link
 * route, so the budgets are shared between them.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { sha256Hex } from '../../shared/sha256.ts';
import type { PageKit } from './page-kit.ts';

/** Requests per minute one link may make; a person clicks a few times, a double click twice. */
export const LINK_REQUESTS_PER_TOKEN_PER_MINUTE = 10;

interface LinkLimitsOptions {
  kit: PageKit;
  /** Link requests per client address per minute (SIGNUP_RATE_LIMIT_PER_MINUTE). */
  perAddressPerMinute: number;
  perTokenPerMinute?: number;
}

/** The link's token: the query's on GET, the form field on POST (the body limit runs before this). */
async function tokenOf(c: Context): Promise<string> {
  if (c.req.method !== 'POST') return c.req.query('token') ?? '';
  const body = await c.req.parseBody();
  return typeof body.token === 'string' ? body.token : '';
}

/** Per address, then per link: put it on every link route, after its body limit. */
export function createLinkLimits(options: LinkLimitsOptions): MiddlewareHandler {
  const refuse = (c: Context) => options.kit.message(c, 429, 'Too many attempts', ['This link was opened too often in the last minute. Wait a minute and try again.']);
  const byAddress = rateLimiter({
    windowMs: 60_000,
    limit: options.perAddressPerMinute,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => `link:${options.kit.clientKey(c)}`,
    handler: refuse,
  });
  const byToken = rateLimiter({
    windowMs: 60_000,
    limit: options.perTokenPerMinute ?? LINK_REQUESTS_PER_TOKEN_PER_MINUTE,
    standardHeaders: 'draft-6',
    // No token: nothing to count it under; the address budget and the token check still apply.
    skip: async (c) => (await tokenOf(c)) === '',
    keyGenerator: async (c) => `link-token:${sha256Hex(await tokenOf(c))}`,
    handler: refuse,
  });
  return (c, next) =>
    byAddress(c, async () => {
      const refused = await byToken(c, next);
      if (refused) c.res = refused;
    });
}
