/**
 * What the Kong Admin API client needs around a request: turning network failures and Kong's error
 * answers into typed KongErrors with hints, body parsing, and the retry backoff.
 */
import { KongError } from './kong-errors.ts';

const TLS_CODES = /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|UNABLE_TO_VERIFY|EPROTO/;

export function networkError(adminUrl: string, error: unknown, method: string, path: string): KongError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code ?? (error as Error).name;
  if (code && TLS_CODES.test(code))
    return new KongError('kong_tls', `TLS error talking to the Kong Admin API at ${adminUrl} (${code})`, {
      method,
      path,
      hint: 'if Kong uses a self-signed certificate, pass --insecure; otherwise check the certificate and KONG_ADMIN_URL',
      cause: error,
    });
  const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : code || (error as Error).message;
  return new KongError('kong_unreachable', `cannot reach the Kong Admin API at ${adminUrl} (${reason})`, {
    method,
    path,
    hint: 'check KONG_ADMIN_URL and that Kong is running and reachable from here',
    cause: error,
  });
}

/**
 * Kong's Admin API never redirects; a 3xx means KONG_ADMIN_URL points at something else (a proxy,
 * http->https, a moved host). Not followed: the admin token must not travel to another origin.
 */
export function redirectError(adminUrl: string, status: number, location: string | null, method: string, path: string): KongError {
  return new KongError('kong_redirect', `the Kong Admin API at ${adminUrl} redirects (${status} on ${method} ${path} to ${describeLocation(adminUrl, location)}); redirects are not followed, so the admin token never goes to another address`, {
    status,
    method,
    path,
    hint: 'set KONG_ADMIN_URL to the address the Admin API answers at directly (often https:// instead of http://, or without a trailing path)',
  });
}

/** Where a redirect points, without userinfo, query or fragment (they may carry secrets). */
function describeLocation(adminUrl: string, location: string | null): string {
  if (!location) return 'no Location';
  try {
    const target = new URL(location, adminUrl);
    return `${target.origin}${target.pathname}`;
  } catch {
    return 'an unreadable Location';
  }
}

export function httpError(status: number, body: unknown, method: string, path: string): KongError {
  const kongMessage = describeBody(body);
  const where = `${method} ${path}`;
  if (status === 401 || status === 403)
    return new KongError('kong_unauthorized', `Kong rejected the admin token (${status} on ${where}${kongMessage ? `: ${kongMessage}` : ''})`, {
      status,
      method,
      path,
      body,
      hint: 'token rejected: check KONG_ADMIN_TOKEN (or KONG_ADMIN_TOKEN_FILE) and its RBAC role, which needs read and write on /files',
    });
  const code = status === 404 ? 'kong_not_found' : status === 409 ? 'kong_conflict' : status === 400 ? 'kong_bad_request' : 'kong_http';
  return new KongError(code, `Kong answered ${status} to ${where}${kongMessage ? `: ${kongMessage}` : ''}`, { status, method, path, body });
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeBody(body: unknown): string {
  if (body && typeof body === 'object') {
    const { message, fields } = body as { message?: unknown; fields?: unknown };
    const parts = [typeof message === 'string' ? message : '', fields ? JSON.stringify(fields) : ''].filter(Boolean);
    return parts.join(' ');
  }
  return typeof body === 'string' ? body.slice(0, 200) : '';
}

export function backoffMs(attempt: number): number {
  return 200 * 3 ** (attempt - 1);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
