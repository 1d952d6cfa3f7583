/**
 * Redaction for text that leaves the process (log lines, /readyz details, error messages): URL
 * userinfo (user:password@), email addresses, Kong Admin API paths that name a developer, and
 * credentials by their shape (Stripe secret and restricted keys, webhook secrets, Konnect
 * tokens, bearer tokens and the Kong admin token header), as an error message or stack may quote them.
 */

// scheme://anything-but-slash-or-space@ : the userinfo part of an absolute URL.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi;
const EMAIL = /[^\s"'<>()[\]\\/:;,@]+@[^\s"'<>()[\]\\/:;,@]+\.[^\s"'<>()[\]\\/:;,@]+/g;
// /developers/<email or id> (and what follows in the same path segment).
const DEVELOPER_PATH = /(\/developers\/)[^\s/?#"':,)]+/gi;

// Stripe sk_/rk_ keys, whsec_ secrets, Konnect kpat_/spat_ tokens: the prefix stays, so the log still says which.
const PREFIXED_SECRET = /\b(sk_live_|sk_test_|rk_live_|rk_test_|whsec_|kpat_|spat_)[A-Za-z0-9_-]+/g;
// "Bearer <token>" and header-shaped "kong-admin-token: <token>" / "authorization=<token>".
const BEARER = /\b(Bearer\s+)[^\s"',;]+/gi;
const SECRET_HEADER = /\b(kong-admin-token|authorization|x-moesif-application-id|stripe-signature|x-kong-signature)(["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic)\s+)?[^\s"',;]+/gi;

/** Credentials recognised by their shape, replaced by `[redacted]` (their prefix or header name kept). */
function redactSecrets(text: string): string {
  return text.replace(PREFIXED_SECRET, '$1[redacted]').replace(BEARER, '$1[redacted]').replace(SECRET_HEADER, '$1$2[redacted]');
}

export function redactUserinfo(text: string): string {
  return text.replace(USERINFO, '$1[redacted]@');
}

/** Userinfo, credentials, developer paths and emails replaced; what remains still says what failed. */
export function redactText(text: string): string {
  return redactSecrets(redactUserinfo(text)).replace(DEVELOPER_PATH, '$1<redacted>').replace(EMAIL, '<email>');
}

/** Deep copy with every string passed through redactText (log fields); what is nested too deep to walk is dropped, not passed on unread. */
export function redactFields<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[nested too deep]' as T;
  if (Array.isArray(value)) return value.map((entry) => redactFields(entry, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) out[key] = redactFields(entry, depth + 1);
  return out as T;
}
