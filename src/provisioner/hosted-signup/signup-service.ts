/**
 * The hosted signup, without HTTP. Nothing is stored before the email is verified: the signup
 * (email, name, plan) travels in a signed, time-limited link. Opening it (confirm) creates, each
 * exactly once, the Kong consumer (username = email; Kong's unique username is the lock across
 * processes), the Stripe customer and subscription and the Moesif records (the provisioning core,
 * with the consumer seen as a developer), then either sends the browser to Stripe Checkout or
 * issues the key. The link is used up once the consumer has a key-auth credential: that state
 * lives in Kong, so it holds across restarts and processes; until then (Checkout abandoned, a
 * crash) the same link resumes the same consumer, customer and subscription.
 */
import type Stripe from 'stripe';
import type { KongConsumer, KongKeyCredential } from '../../kong/kong-consumers.ts';
import { KongError } from '../../kong/kong-errors.ts';
import { paymentCollectionOf, type PaymentCollection, type PlansFile } from '../../shared/plans.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import type { AccessSync } from '../core/access-sync.ts';
import { chargeablePaymentMethod } from '../core/billing-facts.ts';
import { retryFor, type StripeAccess } from '../core/stripe-lookups.ts';
import type { PriceResolver } from '../core/plan-prices.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import type { Provisioner } from '../core/provisioner.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import { createCheckoutSessions } from './checkout-sessions.ts';
import type { SignupConsumers } from './signup-gateway.ts';
import { consumerAsDeveloper, isSignupConsumer, SIGNUP_CONSUMER_TAGS, signupConsumerTags } from './consumer-directory.ts';
import type { SignupMailer } from '../../shared/smtp-mailer.ts';
import { alreadySignedUpMail, verificationMail } from './signup-mailer.ts';
import type { TokenSigner } from './signed-token.ts';
import { SignupError } from './signup-error.ts';

export interface SignupRequest {
  name: string;
  email: string;
  plan: string;
}

export type ConfirmOutcome = { kind: 'checkout'; url: string } | { kind: 'key'; key: string };

interface SignupServiceDeps extends StripeAccess {
  /** The gateway seam (hosted-signup/signup-gateway.ts): Kong consumers, or AWS API keys. */
  consumers: SignupConsumers;
  provisioner: Pick<Provisioner, 'provisionDeveloper'>;
  /** Access sync over consumers (ConsumerDirectory), so the block lands on /consumers/{id}/plugins. */
  access: AccessSync;
  plans: PlansFile;
  prices: PriceResolver;
  defaultCollection: PaymentCollection;
  signer: TokenSigner;
  mailer: SignupMailer;
  publicUrl: string;
  productName: string;
  linkTtlMinutes: number;
  logger: ProvisionLogger;
  /** The clock of the Checkout session buckets; default Date.now. */
  now?: () => number;
}

/** How long after the link expires a return from Checkout is still honoured. */
const CHECKOUT_RETURN_GRACE_SECONDS = 60 * 60;
const KEY_TAGS = [...SIGNUP_CONSUMER_TAGS];
const USED_ELSEWHERE = 'This link was already used: your API key was shown in another tab or window.';

export interface SignupService {
  requestLink(request: SignupRequest): Promise<'sent' | 'already_signed_up'>;
  /** The email of a link (for the confirm page); throws SignupTokenError, or link_used when the key was already shown. */
  peek(token: string): Promise<string>;
  confirm(token: string): Promise<ConfirmOutcome>;
  completeCheckout(token: string): Promise<ConfirmOutcome>;
}

const linkOf = (deps: SignupServiceDeps, token: string, path: 'verify' | 'complete') => `${deps.publicUrl}/signup/${path}?token=${encodeURIComponent(token)}`;

/** The signup a link carries; throws SignupTokenError (expired, forged) or not_started (damaged). */
function readLink(deps: SignupServiceDeps, token: string, graceSeconds = 0): SignupRequest {
  const claims = deps.signer.verify('link', token, { graceSeconds });
  const { e: email, n: name, p: plan } = claims;
  if (typeof email !== 'string' || typeof name !== 'string' || typeof plan !== 'string') throw new SignupError('not_started', 400, 'This link is damaged. Sign up again to get a new one.');
  return { email, name, plan };
}

/** Ours, created once: a second create meets Kong's unique username and reads the first. */
async function ensureConsumer(deps: SignupServiceDeps, signup: SignupRequest): Promise<KongConsumer> {
  let consumer = await deps.consumers.get(signup.email);
  if (!consumer) {
    try {
      consumer = await deps.consumers.create({ username: signup.email, tags: signupConsumerTags(signup) });
    } catch (error) {
      // Kong answers 409 to a taken username; Konnect's answer to it is not documented (400 seen in
      // gRPC-style APIs), so any refusal is followed by a read: the username decides.
      if (!(error instanceof KongError && (error.status === 409 || error.status === 400))) throw error;
      consumer = await deps.consumers.get(signup.email);
      if (!consumer) throw error;
    }
  }
  if (!consumer || !isSignupConsumer(consumer))
    throw new SignupError('email_taken', 409, 'This email already belongs to an account at the gateway that this signup did not create. Contact the API provider.');
  return consumer;
}

/** A link is used up once its consumer has a key. */
async function refuseIfKeyed(deps: SignupServiceDeps, consumer: KongConsumer): Promise<void> {
  if ((await deps.consumers.listKeys(consumer.id)).length > 0)
    throw new SignupError('link_used', 410, 'This link was already used: your API key was shown when it was first opened. Lost the key? Replace it from your account.');
}

/**
 * The one key of a consumer. In this process one issue at a time per consumer; across
 * processes, two creates converge: every issuer keeps the oldest key and drops its own if it
 * is not that one, so exactly one browser is shown a key.
 */
function issueKey(deps: SignupServiceDeps, locks: Map<string, Promise<unknown>>, consumerId: string): Promise<string> {
  return serialized(locks, consumerId, async () => {
    if ((await deps.consumers.listKeys(consumerId)).length > 0) throw new SignupError('link_used', 410, USED_ELSEWHERE);
    const mine = await deps.consumers.createKey(consumerId, KEY_TAGS);
    const all = await deps.consumers.listKeys(consumerId);
    const first = [...all].sort(olderFirst)[0];
    if (first && first.id !== mine.id) {
      await deps.consumers.deleteKey(consumerId, mine.id);
      throw new SignupError('link_used', 410, USED_ELSEWHERE);
    }
    deps.logger.info({ event: 'signup_key_issued', consumer_id: consumerId });
    return mine.key;
  });
}

/** The provisioning core for the consumer seen as a developer, then its access and how its plan collects payment. */
async function provision(deps: SignupServiceDeps, consumer: KongConsumer) {
  const developer = consumerAsDeveloper(consumer);
  const outcome = await deps.provisioner.provisionDeveloper(developer, { mode: 'interactive' });
  if (outcome.ended) throw new SignupError('subscription_ended', 402, 'The subscription for this email has ended. Contact the API provider to resume it.');
  await deps.consumers.completeAccount?.(consumer.id, outcome.customerId);
  const fresh = outcome.createdObjects ? { customer: outcome.createdObjects.customer, freshSubscription: outcome.createdObjects.subscription } : {};
  const access = await deps.access.syncDeveloper(developer, fresh);
  const plan = deps.plans.plans.find((p) => p.id === outcome.plan);
  const collection = plan ? paymentCollectionOf(plan, deps.defaultCollection) : deps.defaultCollection;
  return { outcome, access, plan, collection };
}

/** The card Checkout attached becomes the default, so invoices charge it (Stripe does not do that in setup mode). */
async function adoptCard(deps: SignupServiceDeps, customer: Stripe.Customer): Promise<boolean> {
  if (chargeablePaymentMethod(customer, undefined)) return true;
  const methods = await withStripeRetry(() => deps.stripe.customers.listPaymentMethods(customer.id, { limit: 1 }), retryFor(deps, 'list payment methods', false));
  const method = methods.data[0];
  if (!method) return false;
  await withStripeRetry(
    () =>
      deps.stripe.customers.update(
        customer.id,
        { invoice_settings: { default_payment_method: method.id } },
        { idempotencyKey: `kpm-signup-default-pm-${sha256Hex(`${customer.id}\u0000${method.id}`)}` },
      ),
    retryFor(deps, 'make the Checkout card the default', true),
  );
  return true;
}

export function createSignupService(deps: SignupServiceDeps): SignupService {
  const locks = new Map<string, Promise<unknown>>();
  /** One session per link, customer and time bucket (checkout-sessions.ts): a hammered link costs one or two writes. */
  const checkoutSessions = createCheckoutSessions(deps, deps.now);
  const checkoutUrl = (token: string, customerId: string, currency: string) =>
    checkoutSessions.urlFor({ customerId, currency, token, successUrl: linkOf(deps, token, 'complete'), cancelUrl: linkOf(deps, token, 'verify') });

  return {
    async requestLink(request) {
      const existing = await deps.consumers.get(request.email);
      if (existing && (!isSignupConsumer(existing) || (await deps.consumers.listKeys(existing.id)).length > 0)) {
        await deps.mailer.send(alreadySignedUpMail(deps.productName, request.email, `${deps.publicUrl}/signup/account`));
        return 'already_signed_up';
      }
      const token = deps.signer.sign('link', { e: request.email, n: request.name, p: request.plan }, deps.linkTtlMinutes * 60);
      await deps.mailer.send(verificationMail(deps.productName, request.email, linkOf(deps, token, 'verify'), deps.linkTtlMinutes));
      return 'sent';
    },
    async peek(token) {
      // Said on the first page, not after "Continue": a used link has nothing left to do.
      const signup = readLink(deps, token);
      const consumer = await deps.consumers.get(signup.email);
      if (consumer && isSignupConsumer(consumer)) await refuseIfKeyed(deps, consumer);
      return signup.email;
    },
    async confirm(token) {
      const signup = readLink(deps, token);
      const consumer = await ensureConsumer(deps, signup);
      await refuseIfKeyed(deps, consumer);
      const { outcome, access, plan, collection } = await provision(deps, consumer);
      if (collection === 'checkout' && !access?.facts.hasPaymentMethod) {
        const price = plan ? await deps.prices.priceFor(plan) : undefined;
        return { kind: 'checkout', url: await checkoutUrl(token, outcome.customerId, price?.currency ?? 'usd') };
      }
      return { kind: 'key', key: await issueKey(deps, locks, consumer.id) };
    },
    async completeCheckout(token) {
      const signup = readLink(deps, token, CHECKOUT_RETURN_GRACE_SECONDS);
      const consumer = await deps.consumers.get(signup.email);
      if (!consumer || !isSignupConsumer(consumer)) throw new SignupError('not_started', 400, 'This signup was not started. Open the link from your email first.');
      await refuseIfKeyed(deps, consumer);
      const { outcome } = await provision(deps, consumer);
      const customer = (await deps.stripe.customers.retrieve(outcome.customerId)) as Stripe.Customer;
      if (!(await adoptCard(deps, customer)))
        throw new SignupError('checkout_incomplete', 402, 'Stripe has no payment method for you yet. Open the link from your email again to add one.');
      const access = await deps.access.syncDeveloper(consumerAsDeveloper(consumer));
      if (access && access.decision.access === 'refused') throw new SignupError('checkout_incomplete', 402, access.message);
      return { kind: 'key', key: await issueKey(deps, locks, consumer.id) };
    },
  };
}

/** Runs `work` after every earlier work of the same key (a lock, not a join: the second caller sees the first's effect). */
export function serialized<T>(locks: Map<string, Promise<unknown>>, key: string, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.catch(() => undefined);
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return run;
}

export function olderFirst(a: KongKeyCredential, b: KongKeyCredential): number {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
