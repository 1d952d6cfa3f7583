/**
 * Signed, time-limited tokens: `base64url(JSON payload).base64url(HMAC-SHA256)`. They carry the
 * signup (email, name, plan) in the email link, so nothing is stored before the email is
 * verified, and the CSRF token of the form. Each kind is signed under its own derived key, so one
 * kind can never pass for the other.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

type TokenKind = 'link' | 'csrf' | 'account';

type TokenErrorCode = 'token_malformed' | 'token_forged' | 'token_expired';

export class SignupTokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignupTokenError';
  }
}

const MAX_TOKEN_LENGTH = 2048;

export interface TokenSigner {
  sign(kind: TokenKind, payload: Record<string, unknown>, ttlSeconds: number): string;
  /** The payload, or SignupTokenError. `graceSeconds` accepts a token that far past its expiry. */
  verify(kind: TokenKind, token: string, options?: { graceSeconds?: number }): Record<string, unknown> & { exp: number; iat: number };
}

export function createTokenSigner(secret: string, now: () => number = Date.now): TokenSigner {
  const keyOf = (kind: TokenKind) => createHmac('sha256', secret).update(`kpm-hosted-signup ${kind} v1`).digest();
  const mac = (kind: TokenKind, body: string) => createHmac('sha256', keyOf(kind)).update(body).digest();
  const seconds = () => Math.floor(now() / 1000);

  return {
    sign(kind, payload, ttlSeconds) {
      const iat = seconds();
      const body = Buffer.from(JSON.stringify({ ...payload, iat, exp: iat + ttlSeconds }), 'utf8').toString('base64url');
      return `${body}.${mac(kind, body).toString('base64url')}`;
    },
    verify(kind, token, options = {}) {
      const parts = token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
      const [body, signature] = parts;
      if (parts.length !== 2 || !body || !signature || !/^[\w-]+$/.test(body) || !/^[\w-]+$/.test(signature))
        throw new SignupTokenError('token_malformed', 'This link is incomplete or damaged. Copy the whole link from the email, or sign up again.');
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(kind, body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new SignupTokenError('token_forged', 'This link is not one we sent (its signature does not match). Sign up again to get a new one.');
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw new SignupTokenError('token_malformed', 'This link is damaged. Sign up again to get a new one.');
      }
      const claims = payload as { exp?: unknown; iat?: unknown };
      if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new SignupTokenError('token_malformed', 'This link is damaged. Sign up again to get a new one.');
      if (seconds() > claims.exp + (options.graceSeconds ?? 0))
        throw new SignupTokenError('token_expired', 'This link has expired. Links work for a limited time: ask for a new one.');
      return payload as Record<string, unknown> & { exp: number; iat: number };
    },
  };
}
