/**
 * POST /provision without the oracle. The page proves it made the signup by sending, with the
 * email, the developer id Kong's own register answer gave it (a UUID nobody else has). The proof
 * is checked by reading that id from Kong: a wrong or absent id reads nothing that depends on the
 * email, so every unproven request gets the same `202 {"status":"accepted"}` after the same work,
 * known email or not. Proven requests get what the page needs (status, plan), never Stripe ids.
 * Unproven requests still lead to provisioning, in the background and only for a real,
 * provisionable developer (the core reads Kong); the Kong event hook and reconcile cover the rest.
 */
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { developerStatusName, type KongDeveloper } from '../../kong/kong-types.ts';
import type { BillingStatusResponse, ProvisionAccepted, ProvisionProvenAnswer } from '../../shared/provisioner-api.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { hashEmail } from '../stripe/idempotency.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import type { ProvisionOutcome, Provisioner } from '../core/provisioner.ts';
import { errorJson, fail, parseJson, requireJson, type BrowserRouteGuards } from './middleware.ts';

export const PROVISION_BODY_LIMIT = 8 * 1024;

export const provisionBody = z.object({
  email: z.string({ error: 'email is required' }).trim().max(254, 'email is too long').pipe(z.email('email is not a valid address')),
  developer_id: z.uuid('developer_id must be the developer id (a UUID) from Kong\'s register answer').optional(),
});

type ProvisionBody = z.infer<typeof provisionBody>;

interface ProvisionRouteDeps {
  provisioner: Provisioner;
  kong: Pick<KongAdminClient, 'getDeveloper'>;
  logger: ProvisionLogger;
  /**
   * After provisioning: converge the developer's access and say what the page shows about billing
   * (the Checkout URL when a card is missing). Omitted: the answer carries no billing part.
   */
  billing?: (developer: KongDeveloper, outcome: ProvisionOutcome) => Promise<BillingStatusResponse>;
  /** Most unproven requests provisioned in the background at once; more are left to the hook. Default 4. */
  backgroundLimit?: number;
  /** Whether unproven requests provision their email in the background (default true; false in hosted mode). */
  background?: boolean;
}

type ProvisionRouteAnswer = { status: 200; body: ProvisionProvenAnswer } | { status: 202; body: ProvisionAccepted };

const ACCEPTED: ProvisionAccepted = { status: 'accepted' };
const sameEmail = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

export function createProvisionRoute(deps: ProvisionRouteDeps): (body: ProvisionBody) => Promise<ProvisionRouteAnswer> {
  const backgroundLimit = deps.backgroundLimit ?? 4;
  let background = 0;

  function provisionInBackground(email: string): void {
    if (deps.background === false) return;
    if (background >= backgroundLimit) {
      deps.logger.info({ event: 'provision_deferred', email_hash: hashEmail(email), reason: 'background limit reached; left to the Kong event hook and reconcile' });
      return;
    }
    background++;
    // The core logs its own outcome line; an unknown or unapproved email simply ends there.
    deps.provisioner
      .provisionDeveloper(email, { mode: 'interactive' })
      .catch(() => undefined)
      .finally(() => background--);
  }

  /** The developer when `developerId` is this email's developer in Kong; undefined otherwise. */
  async function provenDeveloper(email: string, developerId: string): Promise<KongDeveloper | undefined> {
    let developer: KongDeveloper | undefined;
    try {
      developer = await deps.kong.getDeveloper(developerId);
    } catch (error) {
      // Kong cannot vouch for the proof right now: answer as for any unproven request.
      deps.logger.warn({ event: 'provision_proof_unchecked', email_hash: hashEmail(email), message: (error as Error).message });
      return undefined;
    }
    if (!developer || developer.id.toLowerCase() !== developerId.toLowerCase() || !sameEmail(developer.email, email)) return undefined;
    return developer;
  }

  /** Billing is the page's bonus: a Stripe hiccup here must not fail a signup that is already whole. */
  async function billingOf(developer: KongDeveloper, outcome: ProvisionOutcome): Promise<BillingStatusResponse | undefined> {
    if (!deps.billing) return undefined;
    try {
      return await deps.billing(developer, outcome);
    } catch (error) {
      deps.logger.warn({ event: 'billing_status_failed', developer_id: developer.id, message: (error as Error).message.slice(0, 200) });
      return undefined;
    }
  }

  return async function handle(body) {
    const developer = body.developer_id === undefined ? undefined : await provenDeveloper(body.email, body.developer_id);
    if (!developer) {
      provisionInBackground(body.email);
      return { status: 202, body: ACCEPTED };
    }
    const developerStatus = developerStatusName(developer.status);
    if (!deps.provisioner.isProvisionable(developer)) return { status: 200, body: { status: 'awaiting_approval', developer_status: developerStatus } };
    try {
      const outcome = await deps.provisioner.provisionDeveloper(developer, { mode: 'interactive' });
      const billing = await billingOf(developer, outcome);
      return {
        status: 200,
        body: {
          status: 'active',
          developer_status: developerStatus,
          plan: outcome.plan,
          moesif: outcome.moesif,
          ...(billing?.checkout_url ? { checkout_url: billing.checkout_url } : {}),
          ...(billing ? { billing } : {}),
        },
      };
    } catch (error) {
      // Changed status between our read and the core's: the developer's own state, safe to tell them.
      if (error instanceof ProvisionError && error.code === 'developer_not_provisionable')
        return { status: 200, body: { status: 'awaiting_approval', developer_status: developerStatus } };
      throw error;
    }
  };
}

/** POST /provision behind the browser routes' guards: portal origins, a budget per address, JSON of at most 8 KiB. */
export function mountProvisionRoute(app: Hono, route: (body: ProvisionBody) => Promise<ProvisionRouteAnswer>, guards: BrowserRouteGuards): void {
  app.post(
    '/provision',
    guards.refuseOtherOrigins,
    guards.limitPerAddress('too many signup requests from this address; retry in a minute'),
    requireJson,
    bodyLimit({
      maxSize: PROVISION_BODY_LIMIT,
      onError: (c) => errorJson(c, 'payload_too_large', 413, `the body is larger than ${PROVISION_BODY_LIMIT} bytes; send only {"email": "...", "developer_id": "..."}`),
    }),
    async (c) => {
      const json = parseJson(await c.req.text());
      const parsed = provisionBody.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        if (issue?.path[0] === 'developer_id') fail('invalid_proof', 400, issue.message);
        fail('invalid_email', 400, issue?.message ?? 'email is required');
      }
      const answer = await route(parsed.data);
      return c.json(answer.body, answer.status);
    },
  );
}
