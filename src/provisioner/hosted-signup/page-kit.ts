/**
 * What every hosted-signup page answer shares: HTML with a nonce CSP and `no-store`, the CSRF
 * double submit (a random HttpOnly cookie + a signed form field bound to it), the client key for
 * rate limits, a per-email limit on emails sent, and how errors become pages.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { randomBytes } from 'node:crypto';
import { BoundedMap } from '../../shared/bounded-map.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import { rateLimitKey, resolveClientAddress } from '../http/client-address.ts';
import type { TrustedProxies } from '../settings/trusted-proxies.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import { SignupTokenError, type TokenSigner } from './signed-token.ts';
import { messagePage, type Branding } from './signup-pages.ts';
import { SignupError } from './signup-error.ts';

/** A message as a sentence for a person: capital first letter, closing full stop. */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

type PageStatus = 200 | 400 | 402 | 403 | 404 | 409 | 410 | 413 | 429 | 500 | 502;

const CSRF_COOKIE = 'kpm_signup_csrf';
const CSRF_TTL_SECONDS = 2 * 60 * 60;

interface PageKitDeps {
  signer: TokenSigner;
  brand: Branding;
  publicUrl: string;
  trustedProxies: TrustedProxies;
  emailsPerHour: number;
  logger: ProvisionLogger;
  now?: () => number;
}

export type PageKit = ReturnType<typeof createPageKit>;

export function createPageKit(deps: PageKitDeps) {
  const now = deps.now ?? Date.now;
  const secure = deps.publicUrl.startsWith('https:');
  // Emails sent per address in the last hour, keyed by a digest of the address.
  const emailsSent = new BoundedMap<string, number[]>({ ttlMs: 60 * 60_000, maxEntries: 50_000, now });

  const html = (c: Context, body: (nonce: string) => string, status: PageStatus = 200) => {
    const nonce = randomBytes(16).toString('base64');
    c.header('cache-control', 'no-store');
    c.header('content-security-policy', `default-src 'none'; img-src https: http:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'`);
    c.header('x-content-type-options', 'nosniff');
    return c.html(body(nonce), status);
  };

  const message = (c: Context, status: PageStatus, title: string, lines: string[], action?: { href: string; label: string }) =>
    html(c, (nonce) => messagePage(deps.brand, nonce, title, lines, action), status);

  return {
    html,
    message,
    signupUrl: `${deps.publicUrl}/signup`,

    /** The CSRF cookie (kept if present) and a signed field bound to it. */
    csrfFor(c: Context): string {
      let cookie = getCookie(c, CSRF_COOKIE);
      if (!cookie || !/^[\w-]{32,64}$/.test(cookie)) {
        cookie = randomBytes(32).toString('base64url');
        setCookie(c, CSRF_COOKIE, cookie, { httpOnly: true, sameSite: 'Lax', secure, path: '/signup', maxAge: CSRF_TTL_SECONDS });
      }
      return deps.signer.sign('csrf', { c: sha256Hex(cookie) }, CSRF_TTL_SECONDS);
    },

    csrfValid(c: Context, field: unknown): boolean {
      const cookie = getCookie(c, CSRF_COOKIE);
      if (!cookie || typeof field !== 'string') return false;
      try {
        return deps.signer.verify('csrf', field).c === sha256Hex(cookie);
      } catch {
        return false;
      }
    },

    clientKey(c: Context): string {
      let socket: string | undefined;
      try {
        socket = getConnInfo(c).remote.address;
      } catch {
        socket = undefined;
      }
      return `signup:${rateLimitKey(resolveClientAddress(socket, c.req.header('x-forwarded-for'), deps.trustedProxies))}`;
    },

    /** True (and nothing counted) when this address already got emailsPerHour emails in the last hour. */
    tooManyEmails(email: string): boolean {
      const key = sha256Hex(email);
      const cutoff = now() - 60 * 60_000;
      const recent = (emailsSent.get(key) ?? []).filter((at) => at > cutoff);
      if (recent.length >= deps.emailsPerHour) return true;
      emailsSent.set(key, [...recent, now()]);
      return false;
    },

    /** An error as a page for a person, with a link to the next step (`flow`: which email link failed). */
    failure(c: Context, error: unknown, flow: 'signup' | 'account' = 'signup') {
      const again = { href: `${deps.publicUrl}/signup`, label: 'Sign up again' };
      const account = { href: `${deps.publicUrl}/signup/account`, label: flow === 'account' ? 'Email me a new link' : 'Manage my account' };
      if (error instanceof SignupTokenError)
        return message(c, error.code === 'token_expired' ? 410 : 400, error.code === 'token_expired' ? 'Link expired' : 'Link not valid', [asSentence(error.message)], flow === 'account' ? account : again);
      if (error instanceof SignupError)
        return message(c, error.status, error.code === 'link_used' ? 'Link already used' : 'Not possible', [asSentence(error.message)], error.code === 'link_used' ? account : error.code === 'not_started' ? again : undefined);
      if (error instanceof ProvisionError && error.status < 500) return message(c, 409, 'Not possible', [asSentence(error.message)]);
      // Kong paths name consumers by username (= email): emails stay out of the log.
      const text = String((error as Error).message).replace(/[^\s/@%'"]+(?:@|%40)[^\s/'"]+/g, '<email>');
      deps.logger.error({ event: 'signup_failed', code: error instanceof ProvisionError ? error.code : ((error as { code?: string }).code ?? 'internal_error'), message: text });
      return message(c, 502, 'Something went wrong', ['We could not finish this just now. Nothing was charged. Open the link from your email again in a minute.']);
    },
  };
}
