/**
 * Kong event hook receiver logic (source "crud", event "developers"): signature check over the
 * raw body, payload validation and the decision whether an event should provision. Provisioning
 * re-reads the developer from Kong, so the payload only picks who, never what.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

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

export const kongEventSchema = z
  .object({
    source: z.string(),
    event: z.string().nullish(),
    operation: z.string().optional(),
    entity: z.unknown().optional(),
    old_entity: z.unknown().optional(),
  })
  .passthrough();

export type KongEvent = z.infer<typeof kongEventSchema>;

export type EventDecision = { action: 'provision'; developerId: string } | { action: 'ignore'; reason: string };

/**
 * create -> provision; update -> provision only when it makes the developer provisionable (the
 * old status was not, or is unknown); anything else is acknowledged and ignored.
 */
export function decideKongEvent(event: KongEvent, isProvisionableStatus: (status: number) => boolean): EventDecision {
  if (event.source !== 'crud' || event.event !== 'developers') return { action: 'ignore', reason: `not a developers crud event (${event.source}/${event.event ?? ''})` };
  const entity = developerEntity.safeParse(event.entity);
  if (!entity.success) return { action: 'ignore', reason: 'the event carries no developer entity' };
  const status = entity.data.status;
  if (event.operation === 'create') {
    if (status !== undefined && !isProvisionableStatus(status)) return { action: 'ignore', reason: `developer status ${status} is not provisioned` };
    return { action: 'provision', developerId: entity.data.id };
  }
  if (event.operation === 'update') {
    if (status === undefined || !isProvisionableStatus(status)) return { action: 'ignore', reason: 'the update does not make the developer provisionable' };
    const old = developerEntity.safeParse(event.old_entity);
    const oldStatus = old.success ? old.data.status : undefined;
    if (oldStatus !== undefined && isProvisionableStatus(oldStatus)) return { action: 'ignore', reason: 'the developer was already provisionable' };
    return { action: 'provision', developerId: entity.data.id };
  }
  return { action: 'ignore', reason: `operation "${event.operation ?? ''}" needs nothing` };
}
