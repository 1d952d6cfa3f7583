/**
 * POST /stripe/webhooks: Stripe's events, verified with stripe-node's constructEvent against the
 * raw body and STRIPE_WEBHOOK_SECRET (a bad or missing signature is 400 and changes nothing).
 * The answer comes after the effect (a Kong change takes milliseconds): 200 when applied or not
 * ours, 500 when it could not be applied, so Stripe redelivers. Event ids already applied are
 * remembered for a day, so a duplicate costs no Stripe read; acting twice would be harmless anyway.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type Stripe from 'stripe';
import { BoundedMap } from '../../shared/bounded-map.ts';
import type { EventOutcome } from '../core/stripe-events.ts';
import { ProvisionError } from '../../shared/provision-error.ts';
import { errorFields, type ProvisionLogger } from '../../shared/provision-log.ts';

const STRIPE_EVENT_BODY_LIMIT = 512 * 1024;
/** How far in the future a signature's timestamp may be (clock skew); stripe-node only bounds the past. */
const FUTURE_SKEW_SECONDS = 60;

/** The t= of a Stripe-Signature header, or undefined. */
function signedAt(header: string): number | undefined {
  const match = /(?:^|,)\s*t=(\d{1,12})\s*(?:,|$)/.exec(header);
  return match ? Number(match[1]) : undefined;
}


interface StripeWebhookRouteDeps {
  stripe: Stripe;
  /** Undefined answers 404 with how to turn the route on. */
  webhookSecret: string | undefined;
  handle(event: Stripe.Event): Promise<EventOutcome>;
  logger: ProvisionLogger;
  /** Seconds a signature stays valid (stripe-node's default 300). */
  toleranceSeconds?: number;
  /** Clock in ms (the future-timestamp check); default Date.now. */
  now?: () => number;
  /**
   * Longest wait for the effect before answering (default 5 s). Usually it is milliseconds; under
   * Stripe's rate limit a burst can queue for longer, and Stripe times a delivery out after some
   * seconds and sends it again. Past the budget the answer is 200 and the work goes on; should it
   * then fail, the customer's next event or reconcile converges them.
   */
  answerBudgetMs?: number;
}

export function createStripeWebhookRoute(deps: StripeWebhookRouteDeps): Hono {
  const applied = new BoundedMap<string, true>({ ttlMs: 24 * 60 * 60_000, maxEntries: 50_000 });
  const app = new Hono();
  app.post(
    '/stripe/webhooks',
    bodyLimit({
      maxSize: STRIPE_EVENT_BODY_LIMIT,
      onError: () => {
        throw new ProvisionError('payload_too_large', 413, `a Stripe event is at most ${STRIPE_EVENT_BODY_LIMIT / 1024} KB`);
      },
    }),
    async (c) => {
      const secret = deps.webhookSecret;
      if (!secret)
        throw new ProvisionError('webhook_not_configured', 404, 'Stripe webhooks are off: set STRIPE_WEBHOOK_SECRET (printed once by `stripe:setup --webhook-url`)');
      const raw = await c.req.text();
      let event: Stripe.Event;
      try {
        const header = c.req.header('stripe-signature') ?? '';
        event = deps.stripe.webhooks.constructEvent(raw, header, secret, deps.toleranceSeconds);
        // A signature made for later (a captured one replayed then, or a skewed signer) is no signature now.
        const at = signedAt(header);
        if (at === undefined || at > Math.floor((deps.now ?? Date.now)() / 1000) + FUTURE_SKEW_SECONDS) throw new Error('the signature timestamp is in the future');
      } catch (error) {
        deps.logger.warn({ event: 'stripe_webhook_refused', reason: (error as Error).message.slice(0, 200) });
        throw new ProvisionError('invalid_signature', 400, 'the Stripe-Signature header does not match this body and STRIPE_WEBHOOK_SECRET');
      }
      if (applied.has(event.id)) return c.json({ received: true, duplicate: true });
      const started = performance.now();
      const logOutcome = (outcome: EventOutcome, deferred: boolean) =>
        deps.logger.info({
          event: 'stripe_webhook',
          type: event.type,
          stripe_event: event.id,
          action: outcome.action,
          ...(outcome.reason ? { reason: outcome.reason } : {}),
          ...(outcome.access ? { developer_id: outcome.access.developerId, access: outcome.access.decision.access, change: outcome.access.change } : {}),
          ...(deferred ? { answered: 'before the effect (budget)' } : {}),
          ms: Math.round(performance.now() - started),
        });
      // Only for work that outlived the answer; a failure before the answer is logged with the 500 (app.ts).
      const logLateFailure = (error: unknown) =>
        deps.logger.error({ event: 'stripe_webhook_failed', type: event.type, stripe_event: event.id, answered: 'before the effect (budget)', ...errorFields(error) });
      const work = deps.handle(event).then((outcome) => {
        applied.set(event.id, true);
        return outcome;
      });
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<'budget'>((resolve) => {
        timer = setTimeout(() => resolve('budget'), deps.answerBudgetMs ?? 5_000);
      });
      try {
        const first = await Promise.race([work, budget]);
        if (first === 'budget') {
          work.then((outcome) => logOutcome(outcome, true), logLateFailure);
          return c.json({ received: true, applying: true });
        }
        logOutcome(first, false);
        return c.json({ received: true });
      } catch (error) {
        throw new ProvisionError('webhook_failed', 500, `the event ${event.id} (${event.type}) could not be applied yet; Stripe will deliver it again`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
  );
  return app;
}
