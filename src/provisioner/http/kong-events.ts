/**
 * Kong event hook receiver logic (source "crud", event "developers"): signature check over the
 * raw body, payload validation and the decision whether an event should provision. Provisioning
 * re-reads the developer from Kong, so the payload only picks who, never what.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { REMOVED_DEVELOPER_STATUSES } from '../../kong/kong-types.ts';
import { BoundedMap } from '../../shared/bounded-map.ts';
import { ProvisionError } from '../../shared/provision-error.ts';

/** HMAC-SHA1 hex of the raw body, as Kong sends it in x-kong-signature (with or without "sha1="). */
export function signKongEvent(rawBody: string | Uint8Array, secret: string): string {
  return createHmac('sha1', secret).update(rawBody).digest('hex');
}

/** Constant-time check of an x-kong-signature header against the raw body. */
export function verifyKongSignature(rawBody: string | Uint8Array, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const given = header.trim().replace(/^sha1=/i, '').toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(given)) return false;
  const expected = Buffer.from(signKongEvent(rawBody, secret), 'hex');
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

const developerEntity = z.object({ id: z.string().min(1), status: z.number().int().optional(), email: z.string().optional() }).passthrough();

const kongEventSchema = z
  .object({
    source: z.string(),
    event: z.string().nullish(),
    operation: z.string().optional(),
    entity: z.unknown().optional(),
    old_entity: z.unknown().optional(),
  })
  .passthrough();

type KongEvent = z.infer<typeof kongEventSchema>;

type EventDecision =
  | { action: 'provision'; developerId: string; previousEmails: string[] }
  | { action: 'removed'; developerId: string; email: string; deleted: boolean }
  | { action: 'ignore'; reason: string };


function decideUpdate(entity: z.infer<typeof developerEntity>, oldEntity: unknown, isProvisionableStatus: (status: number) => boolean): EventDecision {
  const old = developerEntity.safeParse(oldEntity);
  const oldStatus = old.success ? old.data.status : undefined;
  const oldEmail = old.success ? old.data.email : undefined;
  const status = entity.status;
  if (status !== undefined && REMOVED_DEVELOPER_STATUSES.has(status) && !(oldStatus !== undefined && REMOVED_DEVELOPER_STATUSES.has(oldStatus)))
    return { action: 'removed', developerId: entity.id, email: entity.email ?? oldEmail ?? '', deleted: false };
  if (status === undefined || !isProvisionableStatus(status)) return { action: 'ignore', reason: 'the update does not make the developer provisionable' };
  // A new email: the same Stripe customer must follow it (found through the old one).
  if (oldEmail && entity.email && oldEmail !== entity.email) return { action: 'provision', developerId: entity.id, previousEmails: [oldEmail] };
  if (oldStatus !== undefined && isProvisionableStatus(oldStatus)) return { action: 'ignore', reason: 'the developer was already provisionable' };
  return { action: 'provision', developerId: entity.id, previousEmails: [] };
}

/**
 * create -> provision; update -> provision when it makes the developer provisionable or changes
 * their email, 'removed' when it revokes or rejects them; delete -> 'removed'. Anything else is
 * acknowledged and ignored (a meta.plan edit among them: Stripe, not the portal form, holds the plan).
 */
export function decideKongEvent(event: KongEvent, isProvisionableStatus: (status: number) => boolean): EventDecision {
  if (event.source !== 'crud' || event.event !== 'developers') return { action: 'ignore', reason: `not a developers crud event (${event.source}/${event.event ?? ''})` };
  const parsed = developerEntity.safeParse(event.operation === 'delete' ? (event.entity ?? event.old_entity) : event.entity);
  if (!parsed.success) return { action: 'ignore', reason: 'the event carries no developer entity' };
  const entity = parsed.data;
  if (event.operation === 'create') {
    if (entity.status !== undefined && !isProvisionableStatus(entity.status)) return { action: 'ignore', reason: `developer status ${entity.status} is not provisioned` };
    return { action: 'provision', developerId: entity.id, previousEmails: [] };
  }
  if (event.operation === 'update') return decideUpdate(entity, event.old_entity, isProvisionableStatus);
  if (event.operation === 'delete') return { action: 'removed', developerId: entity.id, email: entity.email ?? '', deleted: true };
  return { action: 'ignore', reason: `operation "${event.operation ?? ''}" needs nothing` };
}

/** Kong signs with this secret; a short one can be guessed offline from one captured event. */
const MIN_EVENT_HOOK_SECRET_LENGTH = 16;

export class KongEventSecretError extends Error {
  readonly code = 'event_hook_secret_too_short';
  constructor() {
    super(`KONG_EVENT_HOOK_SECRET is shorter than ${MIN_EVENT_HOOK_SECRET_LENGTH} characters; use a long random value (openssl rand -hex 32)`);
  }
}

/** Kong's answer to a hook create/update/delete: it carries the hook (secret included), so it is never logged. */
function isKongPing(event: KongEvent): boolean {
  return event.source === 'kong:event_hooks' && event.event === 'ping';
}

/**
 * A bounded memory of the raw-body digests of events already acted on. Acting twice is idempotent
 * anyway; this only keeps a replayed captured event (still validly signed) from costing Kong and
 * Stripe reads. Oldest digests are forgotten first.
 */
export class SeenEvents {
  private readonly digests: BoundedMap<string, true>;
  constructor(capacity = 10_000) {
    this.digests = new BoundedMap({ ttlMs: Infinity, maxEntries: capacity });
  }

  static digest(rawBody: Uint8Array | string): string {
    return createHash('sha256').update(rawBody).digest('hex');
  }

  has(digest: string): boolean {
    return this.digests.has(digest);
  }

  remember(digest: string): void {
    this.digests.set(digest, true);
  }
}

/** What the receiver answers; refusals are thrown as ProvisionErrors, which the app answers like any other. */
interface KongEventAnswer {
  status: 200;
  body: { action: 'ping' } | { action: 'duplicate' } | { action: 'ignored'; reason: string } | { action: 'provisioned'; result: unknown } | { action: 'removed'; result: unknown };
}

interface KongEventReceiverDeps {
  secret: string;
  /** Provisions by the developer id of the event, which the provisioner re-reads in ITS workspace. */
  provision(developerId: string, options: { previousEmails: string[] }): Promise<unknown>;
  /** A developer deleted, revoked or rejected: end billing as configured and refuse access (omitted: ignored). */
  removed?(developer: { id: string; email: string; deleted: boolean }): Promise<unknown>;
  isProvisionableStatus(status: number): boolean;
  /** Errors that mean "nothing to do" (developer gone, of another workspace, or not eligible). */
  isNothingToDo(error: unknown): boolean;
  memory?: number;
}

/**
 * The receiver of POST /kong/events: signature (bare hex or `sha1=`), pings answered 200 without
 * their body being looked at further, replays answered from memory, then provision-or-ignore.
 * Kong hooks are global, so events of other workspaces arrive too: acting on the developer id
 * (never the email) means a developer of another workspace with the same email is not found in
 * ours and the event is ignored.
 */
export function createKongEventReceiver(deps: KongEventReceiverDeps): (rawBody: Uint8Array, signature: string | undefined) => Promise<KongEventAnswer> {
  if (deps.secret.length < MIN_EVENT_HOOK_SECRET_LENGTH) throw new KongEventSecretError();
  const seen = new SeenEvents(deps.memory);
  return async (rawBody, signature) => {
    if (!verifyKongSignature(rawBody, signature, deps.secret))
      throw new ProvisionError('invalid_signature', 401, 'x-kong-signature is missing or does not match KONG_EVENT_HOOK_SECRET');
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(rawBody));
    } catch {
      throw new ProvisionError('invalid_json', 400, 'the body is not valid JSON');
    }
    const event = kongEventSchema.safeParse(json);
    if (!event.success) throw new ProvisionError('invalid_event', 400, 'the body is not a Kong event hook payload');
    if (isKongPing(event.data)) return { status: 200, body: { action: 'ping' } };
    const digest = SeenEvents.digest(rawBody);
    if (seen.has(digest)) return { status: 200, body: { action: 'duplicate' } };
    const decision = decideKongEvent(event.data, deps.isProvisionableStatus);
    let answer: KongEventAnswer;
    if (decision.action === 'ignore') answer = { status: 200, body: { action: 'ignored', reason: decision.reason } };
    else if (decision.action === 'removed' && !deps.removed) answer = { status: 200, body: { action: 'ignored', reason: 'developer removals are not handled here' } };
    else {
      try {
        answer =
          decision.action === 'provision'
            ? { status: 200, body: { action: 'provisioned', result: await deps.provision(decision.developerId, { previousEmails: decision.previousEmails }) } }
            : { status: 200, body: { action: 'removed', result: await deps.removed?.({ id: decision.developerId, email: decision.email, deleted: decision.deleted }) } };
      } catch (error) {
        // Failures are not remembered, so Kong's (or anyone's) retry is acted on.
        if (!deps.isNothingToDo(error)) throw error;
        answer = { status: 200, body: { action: 'ignored', reason: (error as Error).message } };
      }
    }
    seen.remember(digest);
    return answer;
  };
}
