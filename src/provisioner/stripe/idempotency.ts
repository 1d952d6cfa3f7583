/**
 * Idempotency keys for Stripe writes. No email or name ever appears in a key. Two schemes:
 * - stable keys, for developers Kong created less than STABLE_KEY_MAX_AGE_MS ago: a hash of the
 *   workspace, the developer id and the step (plus the price id for the subscription), without the
 *   request params. Every path (browser, event hook, reconcile) sends the same key for the same
 *   object, so a create can go out without a lookup first: a repeat replays the first object, and
 *   changed params (a renamed developer) get Stripe's idempotency_error, which the caller answers
 *   with a lookup. Stripe keeps a key 24 h after its first use, and the first use is after the
 *   developer was created, so the key is still known for the whole window.
 * - param keys, for older developers: the same parts plus a digest of the exact params. Those
 *   developers are always looked up before a create; the params in the key keep a changed request
 *   from looping on idempotency_error, and a retry of the same write still replays.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sha256Hex } from '../../shared/sha256.ts';

type ProvisionStep = 'customer' | 'subscription';

/** Stripe forgets keys after 24 h; one hour of margin covers clock skew between Kong, us and Stripe. */
export const STABLE_KEY_MAX_AGE_MS = 23 * 60 * 60 * 1000;


/** JSON with object keys sorted, so equal params always hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function idempotencyKey(parts: { workspace: string; developerId: string; step: ProvisionStep; params: unknown }): string {
  const digest = sha256Hex(canonicalJson([parts.workspace, parts.developerId, parts.step, parts.params]));
  return `kpm-${parts.step}-${digest}`;
}

/**
 * A developer has one live subscription whatever its plan, so the subscription key leaves the
 * price out: two racing signups that picked different plans meet on one key (the second gets
 * idempotency_error and looks up). `replaces` names the ended subscription an explicit
 * resubscribe follows, so each resubscription is its own single write.
 */
type StableKeyParts = { workspace: string; developerId: string } & ({ step: 'customer' } | { step: 'subscription'; replaces?: string });

export function stableIdempotencyKey(parts: StableKeyParts): string {
  const fields =
    parts.step === 'customer'
      ? [parts.workspace, parts.developerId, 'customer']
      : [parts.workspace, parts.developerId, 'subscription', ...(parts.replaces ? [parts.replaces] : [])];
  return `kpm-${parts.step}-stable-${sha256Hex(canonicalJson(fields))}`;
}

/**
 * Whether a developer created at `createdAtSeconds` (Kong's created_at) gets stable keys at
 * `nowMs`. A missing or nonsensical created_at means no: the param scheme is safe at any age.
 */
export function usesStableKeys(createdAtSeconds: number | undefined, nowMs: number): boolean {
  if (typeof createdAtSeconds !== 'number' || !Number.isFinite(createdAtSeconds) || createdAtSeconds <= 0) return false;
  return nowMs - createdAtSeconds * 1000 < STABLE_KEY_MAX_AGE_MS;
}

// A random key until the provisioner configures one: an unkeyed digest of an email can be
// reversed by hashing a list of candidate addresses.
let emailHashKey: Buffer = randomBytes(32);

/** Sets the HMAC key of hashEmail (LOG_HASH_KEY, or one derived from a configured secret). */
export function setEmailHashKey(key: string): void {
  emailHashKey = Buffer.from(key, 'utf8');
}

/** Emails in logs: a keyed digest (HMAC-SHA256, 16 hex), never the address. */
export function hashEmail(email: string): string {
  return createHmac('sha256', emailHashKey).update(email.trim().toLowerCase()).digest('hex').slice(0, 16);
}
