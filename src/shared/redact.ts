/**
 * Redaction for text that leaves the process (log lines, /readyz details, error messages): URL
 * userinfo (user:password@), email addresses and Kong Admin API paths that name a developer.
 */

// scheme://anything-but-slash-or-space@ : the userinfo part of an absolute URL.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi;
const EMAIL = /[^\s"'<>()[\]\\/:;,@]+@[^\s"'<>()[\]\\/:;,@]+\.[^\s"'<>()[\]\\/:;,@]+/g;
// /developers/<email or id> (and what follows in the same path segment).
const DEVELOPER_PATH = /(\/developers\/)[^\s/?#"':,)]+/gi;

export function redactUserinfo(text: string): string {
  return text.replace(USERINFO, '$1[redacted]@');
}

/** Userinfo, developer paths and emails replaced; what remains still says what failed. */
export function redactText(text: string): string {
  return redactUserinfo(text).replace(DEVELOPER_PATH, '$1<redacted>').replace(EMAIL, '<email>');
}

/** Deep copy with every string passed through redactText (log fields). */
export function redactFields<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((entry) => redactFields(entry, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) out[key] = redactFields(entry, depth + 1);
  return out as T;
}
