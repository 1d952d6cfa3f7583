/**
 * What every route of the provisioner's HTTP API shares: the error answer (`{error: {code,
 * message}}`, never a stack trace), the JSON body checks, the origin check and the per-address
 * budget of the browser routes, and the headers every answer carries.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono, Next } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { rateLimiter } from 'hono-rate-limiter';
import type { ErrorResponse } from '../../shared/provisioner-api.ts';
import { ProvisionError, publicMessage, type ProvisionErrorCode } from '../../shared/provision-error.ts';
import { errorFields, type ProvisionLogger } from '../../shared/provision-log.ts';
import { rateLimitKey, resolveClientAddress } from './client-address.ts';
import type { TrustedProxies } from '../settings/trusted-proxies.ts';

export function fail(code: ProvisionErrorCode, status: number, message: string): never {
  throw new ProvisionError(code, status, message);
}

export function errorJson(c: Context, code: string, status: number, message: string): Response {
  const body: ErrorResponse = { error: { code, message } };
  return c.json(body, status as ContentfulStatusCode);
}

/** Rate-limit key: the socket's address, or X-Forwarded-For read through trusted proxies only. */
function clientKey(c: Context, proxies: TrustedProxies): string {
  let socket: string | undefined;
  try {
    socket = getConnInfo(c).remote.address;
  } catch {
    socket = undefined;
  }
  return rateLimitKey(resolveClientAddress(socket, c.req.header('x-forwarded-for'), proxies));
}

/**
 * JSON, declared as application/json or as text/plain: the page sends text/plain so its call is
 * a CORS simple request (no preflight); the body is parsed as JSON either way and the origin is
 * checked here, not by the browser.
 */
export async function requireJson(c: Context, next: Next): Promise<void> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/([\w.+-]+\+)?json|text\/plain)\s*(;|$)/i.test(type))
    // The header is not echoed: an answer never reflects what the request carried.
    fail('unsupported_media_type', 415, 'send the body as JSON with content-type: application/json or text/plain');
  await next();
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail('invalid_json', 400, 'the body is not valid JSON');
  }
}

/** The guards of the browser routes that act for a developer: only the portal's origins, a budget per client address. */
export interface BrowserRouteGuards {
  refuseOtherOrigins(c: Context, next: Next): Promise<void>;
  limitPerAddress(message: string): ReturnType<typeof rateLimiter>;
}

export function browserRouteGuards(options: { allowedOrigins: Set<string>; rateLimitPerMinute: number; trustedProxies: TrustedProxies }): BrowserRouteGuards {
  return {
    async refuseOtherOrigins(c, next) {
      const origin = c.req.header('origin');
      if (origin !== undefined && !options.allowedOrigins.has(origin)) fail('origin_not_allowed', 403, `origin ${origin} is not allowed to call the provisioner (PORTAL_ORIGINS)`);
      await next();
    },
    limitPerAddress: (message) =>
      rateLimiter({
        windowMs: 60_000,
        limit: options.rateLimitPerMinute,
        standardHeaders: 'draft-6',
        keyGenerator: (c) => clientKey(c, options.trustedProxies),
        handler: (c) => errorJson(c, 'rate_limited', 429, message),
      }),
  };
}

/**
 * Every error answer goes through here. Every 5xx answer leaves one log line with its cause chain
 * and stack (redacted by the logger): the answer says only "see its log", so the log must say why.
 */
export function answerErrors(app: Hono, logger: ProvisionLogger): void {
  app.onError((error, c) => {
    const request = { method: c.req.method, path: c.req.path };
    if (error instanceof ProvisionError) {
      const answer = publicMessage(error);
      // The browser gets a generic text; the operator gets what happened (the logger redacts it).
      if (answer.generic || error.status >= 500) logger.error({ event: 'request_failed', ...request, status: error.status, code: error.code, ...errorFields(error) });
      return errorJson(c, error.code, error.status, answer.message);
    }
    if (error instanceof HTTPException && error.status < 500) return errorJson(c, 'bad_request', error.status, error.message || 'bad request');
    logger.error({ event: 'unhandled_error', ...request, status: 500, ...errorFields(error) });
    return errorJson(c, 'internal_error', 500, 'the provisioner failed unexpectedly; see its log');
  });
  app.notFound((c) => errorJson(c, 'not_found', 404, `no route ${c.req.method} ${c.req.path}`));
}

/** nosniff on every answer, and CORS for the portal's origins only. */
export function answerHeaders(app: Hono, allowedOrigins: Set<string>): void {
  // Every answer, JSON ones included, is read as what its content-type says and nothing else.
  app.use('*', async (c, next) => {
    await next();
    try {
      c.res.headers.set('x-content-type-options', 'nosniff');
    } catch {
      // A response with immutable headers (Response.redirect, a passed-through fetch): copy it.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('x-content-type-options', 'nosniff');
    }
  });
  app.use(
    '*',
    cors({
      origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['content-type'],
      maxAge: 600,
    }),
  );
}
