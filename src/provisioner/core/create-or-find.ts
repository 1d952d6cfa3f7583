/**
 * A Stripe create that stays exactly once when its answer is lost or an earlier attempt failed:
 * - a race (key in use, or used with other params by another process) or a write Stripe may
 *   have applied (5xx, lost connection): list again before giving up;
 * - a replayed error (`Idempotent-Replayed: true`): Stripe saved an earlier failure under this
 *   key and will answer it for 24 h. If listing shows nothing was created, the write goes again
 *   under a fresh key derived from the stable one and the failed request's id, so every process
 *   that meets the same saved failure picks the same fresh key.
 */
import type Stripe from 'stripe';
import { sha256Hex } from '../../shared/sha256.ts';
import { classifyStripeError, stripeErrorOf } from '../../shared/stripe-errors.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { retryFor, type StripeAccess } from './stripe-lookups.ts';

/** stripe-node puts the response headers on the returned object; Stripe marks replays. */
export function wasReplayed(object: object): boolean {
  return (object as Partial<Stripe.Response<object>>).lastResponse?.headers?.['idempotent-replayed'] === 'true';
}

/** The id of the request whose saved failure Stripe replayed, or undefined if this is no replay. */
export function replayedFailureOf(error: unknown): string | undefined {
  const headers = stripeErrorOf(error)?.headers;
  if (headers?.['idempotent-replayed'] !== 'true') return undefined;
  return headers['original-request'] ?? headers['request-id'] ?? 'unknown';
}

type Recovery = 'raced' | 'applied' | 'replayed';

function recoveryAfterFailedWrite(error: unknown): Recovery | undefined {
  const failure = classifyStripeError(stripeErrorOf(error));
  if (!failure) return undefined;
  if (replayedFailureOf(error)) return 'replayed';
  if (failure.idempotencyConflict) return 'raced';
  if (failure.mayHaveApplied) return 'applied';
  return undefined;
}

/** Fresh keys tried after replayed failures before giving up. */
const MAX_FRESH_KEYS = 3;

export function freshKeyAfter(key: string, failedRequestId: string): string {
  return `${key.slice(0, 180)}-after-${sha256Hex(failedRequestId).slice(0, 16)}`;
}

interface CreateOrFindResult<T> {
  object: T;
  /** False when Stripe replayed an earlier write or the object was found by listing. */
  created: boolean;
}

export async function createOrFind<T extends object>(
  access: StripeAccess,
  what: string,
  key: string,
  create: (idempotencyKey: string) => Promise<T>,
  find: () => Promise<T | undefined>,
): Promise<CreateOrFindResult<T>> {
  let currentKey = key;
  for (let fresh = 0; ; fresh += 1) {
    try {
      const object = await withStripeRetry(() => create(currentKey), retryFor(access, what, true));
      return { object, created: !wasReplayed(object) };
    } catch (error) {
      const recovery = recoveryAfterFailedWrite(error);
      if (!recovery) throw error;
      const found = await find();
      if (found) return { object: found, created: recovery === 'applied' };
      const failedRequest = replayedFailureOf(error);
      if (recovery !== 'replayed' || failedRequest === undefined || fresh >= MAX_FRESH_KEYS) throw error;
      currentKey = freshKeyAfter(currentKey, failedRequest);
    }
  }
}
