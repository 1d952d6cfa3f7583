/**
 * Idempotency keys for Stripe writes. A key is a hash of the workspace, the developer id, the step
 * and a digest of the exact request params, so:
 * - a retry of the same write (crash, lost answer, SDK retry) replays the first result;
 * - a changed request (new plan price, renamed developer) within Stripe's 24 h key lifetime gets
 *   a new key instead of a 400 idempotency_error loop;
 * - no email or name ever appears in a key.
 */
import { createHash } from 'node:crypto';

export type ProvisionStep = 'customer' | 'subscription';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

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

/** Emails in logs: a short stable digest, never the address. */
export function hashEmail(email: string): string {
  return sha256Hex(email.trim().toLowerCase()).slice(0, 16);
}
