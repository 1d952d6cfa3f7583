/**
 * "My account" for hosted-signup consumers, reached through an emailed, signed, time-limited link
 * (no passwords): replace the API key, or open Stripe's customer portal. The link names the keys
 * the consumer had when it was sent (a digest of their ids); a replacement removes exactly those,
 * so the same link cannot replace twice: state at the gateway again, across restarts and processes.
 */
import type Stripe from 'stripe';
import type { KongConsumer, KongConsumers, KongKeyCredential } from '../../kong/kong-consumers.ts';
import { sha256Hex } from '../../shared/sha256.ts';
import type { PlansFile } from '../../shared/plans.ts';
import { pageMessage } from '../core/access-decision.ts';
import type { AccessSync } from '../core/access-sync.ts';
import { PORTAL_MARK } from '../core/billing-status.ts';
import type { UsageFiguresService } from '../usage/usage-figures.ts';
import { retryFor, type StripeAccess } from '../core/stripe-lookups.ts';
import { errorFields, type ProvisionLogger } from '../../shared/provision-log.ts';
import type { Provisioner } from '../core/provisioner.ts';
import { withStripeRetry } from '../stripe/stripe-calls.ts';
import type { SignupConsumers } from './signup-gateway.ts';
import { consumerAsDeveloper, consumerSignup, isSignupConsumer, SIGNUP_CONSUMER_TAGS } from './consumer-directory.ts';
import type { OutgoingMail, SignupMailer } from '../../shared/smtp-mailer.ts';
import { setSpendCap } from '../core/spend-cap.ts';
import { spendCapOf } from '../core/usage-limits.ts';
import { usageAlertLine } from '../core/usage-alerts.ts';
import { olderFirst, serialized } from './signup-service.ts';
import { SignupError } from './signup-error.ts';
import type { TokenSigner } from './signed-token.ts';

export interface AccountServiceDeps extends StripeAccess {
  consumers: Pick<KongConsumers, 'get' | 'listKeys' | 'createKey' | 'deleteKey'> & Pick<SignupConsumers, 'stageKey'>;
  provisioner: Pick<Provisioner, 'provisionDeveloper'>;
  /** Billing state for the page (the portal panel's banner); absent: no banner. */
  access?: Pick<AccessSync, 'syncDeveloper'>;
  /** Plan names for the page; absent: the plan id. */
  plans?: PlansFile;
  signer: TokenSigner;
  mailer: SignupMailer;
  publicUrl: string;
  productName: string;
  linkTtlMinutes: number;
  logger: ProvisionLogger;
  usage?: UsageFiguresService;
}

/** What the account page shows: who, the plan by name, billing as the portal panel says it, and whether the link still replaces the key. */
export interface AccountView {
  email: string;
  plan: string | undefined;
  planName: string | undefined;
  /** Absent when access is allowed (or not known): the banner shows only when something needs doing. */
  billing?: { access: 'grace' | 'refused'; reason: string; message: string };
  /** The key this link was sent for was already replaced: the link cannot replace it again. */
  used: boolean;
  /** A payment waiting for 3-D Secure confirmation: Stripe's hosted invoice page. */
  confirmPaymentUrl?: string;
  /** Calls and amount so far this period, in one sentence (absent without usage figures). */
  usage?: string;
  /** The monthly spend cap in cents, null when none; absent without a Stripe customer (no form). */
  spendCap?: number | null;
  /** An 80 % / 100 % quota or spend-cap alert went out this period: the line to show. */
  usageAlert?: string;
}

/** What a key replacement did: the new value, shown once, and whether every old key is gone. */
export interface KeyReplacement {
  key: string;
  /**
   * False when deleting an old key failed after the new one was made (AWS): the old key keeps
   * working until the new key's first call (reconcile) or the next replacement, and the page says so.
   */
  oldKeyStopped: boolean;
}

export interface AccountService {
  /** Emails a link when the address has a key; otherwise nothing (the page says the same either way). */
  requestLink(email: string): Promise<'sent' | 'no_account'>;
  open(token: string): Promise<AccountView>;
  rotateKey(token: string): Promise<KeyReplacement>;
  billingPortalUrl(token: string): Promise<string>;
  /** Stores the spend cap (cents; null removes it) and answers the page view after it. */
  setSpendCap(token: string, cap: number | null): Promise<AccountView>;
}

const keysDigest = (keys: KongKeyCredential[]) => sha256Hex(keys.map((key) => key.id).sort().join(','));

function accountMail(productName: string, to: string, link: string, ttlMinutes: number): OutgoingMail {
  return {
    to,
    subject: `Manage your ${productName} account`,
    text: [`Hello,`, ``, `Open this link to replace your API key or manage your billing:`, ``, link, ``, `It works for ${ttlMinutes} minutes. If you did not ask for it, ignore this email.`].join('\n'),
  };
}

/**
 * Everything billing on the page from one access sync: the banner, the cap, the 80 % line, a
 * payment the bank holds for confirmation (the decision's own facts) and the usage so far of the
 * subscription the sync found. The page still opens when the usage figures cannot be read.
 */
async function billingOf(deps: AccountServiceDeps, consumer: KongConsumer): Promise<Pick<AccountView, 'billing' | 'spendCap' | 'usageAlert' | 'confirmPaymentUrl' | 'usage'>> {
  const outcome = await deps.access?.syncDeveloper(consumerAsDeveloper(consumer));
  if (!outcome) return {};
  const alert = usageAlertLine(outcome.customer, outcome.subscription?.items.data[0]?.current_period_end, outcome.plan, outcome.facts);
  const figures = deps.usage && outcome.subscription ? await deps.usage.figures(outcome.subscription.id).catch(() => undefined) : undefined;
  return {
    ...(outcome.customer ? { spendCap: spendCapOf(outcome.customer) ?? null } : {}),
    ...(alert ? { usageAlert: alert } : {}),
    ...(outcome.facts.confirmPaymentUrl ? { confirmPaymentUrl: outcome.facts.confirmPaymentUrl } : {}),
    ...(figures ? { usage: figures.summary } : {}),
    ...(outcome.decision.access === 'allowed' ? {} : { billing: { access: outcome.decision.access, reason: outcome.decision.reason, message: pageMessage(outcome.decision) } }),
  };
}

/** A customer portal session under the configuration stripe:setup made, returning to the account page. */
async function portalSessionUrl(deps: AccountServiceDeps, customerId: string): Promise<string> {
  // Configurations made through the API are never Stripe's default: use the one stripe:setup made.
  const configs = await withStripeRetry(() => deps.stripe.billingPortal.configurations.list({ active: true, limit: 100 }), retryFor(deps, 'list portal configurations', false));
  const ours = configs.data.find((config) => config.metadata?.[PORTAL_MARK] === 'true');
  const session: Stripe.BillingPortal.Session = await withStripeRetry(
    () =>
      deps.stripe.billingPortal.sessions.create({
        customer: customerId,
        return_url: `${deps.publicUrl}/signup/account`,
        ...(ours ? { configuration: ours.id } : {}),
      }),
    retryFor(deps, 'open the customer portal', true),
  );
  return session.url;
}

const used = () => new SignupError('link_used', 410, 'This link was already used to replace your key. Ask for a new link to replace it again.');

/** Kong: a credential added to the consumer; another process replacing at the same moment: the oldest new key wins, the others withdraw. */
async function replaceAdded(deps: AccountServiceDeps, consumer: KongConsumer, old: KongKeyCredential[]): Promise<string> {
  const mine = await deps.consumers.createKey(consumer.id, [...SIGNUP_CONSUMER_TAGS]);
  const oldIds = new Set(old.map((key) => key.id));
  const fresh = (await deps.consumers.listKeys(consumer.id)).filter((key) => !oldIds.has(key.id)).sort(olderFirst);
  if (fresh[0] && fresh[0].id !== mine.id) {
    await deps.consumers.deleteKey(consumer.id, mine.id);
    throw used();
  }
  for (const key of old) await deps.consumers.deleteKey(consumer.id, key.id);
  return mine.key;
}

/**
 * AWS (stageKey): the new key is made first (the gateway converges duplicates and retries on it);
 * provisioning writes the Moesif user of its id in the developer's company (same subscription, so
 * usage stays on the same bill) and the access sync gives it the developer's access as Stripe has
 * it now, before it is shown; the old keys go last. A failure before the new value is read leaves
 * the old key working, and the same link, retried, resumes with the same new key (it counts as
 * issued only once the old one is gone). A failure deleting an old key after that still shows the
 * new value (logged): answering an error would leave the developer holding a key never shown to
 * them once the old one goes. The old key then stays until the developer's next replacement
 * (the same new key again) or the new key's first call (reconcile: aws-key-rotation.ts).
 */
async function replaceStaged(deps: AccountServiceDeps, consumer: KongConsumer, old: KongKeyCredential[]): Promise<{ key: string; removed: number }> {
  const next = consumerAsDeveloper(await deps.consumers.stageKey!(consumer.id));
  await deps.provisioner.provisionDeveloper(next, { mode: 'interactive' });
  await deps.access?.syncDeveloper(next);
  const mine = await deps.consumers.createKey(consumer.id, [...SIGNUP_CONSUMER_TAGS]);
  let removed = 0;
  try {
    for (const key of old) {
      await deps.consumers.deleteKey(consumer.id, key.id);
      removed++;
    }
  } catch (error) {
    deps.logger.warn({ event: 'signup_key_replace_unfinished', consumer_id: consumer.id, kept: old.length - removed, ...errorFields(error) });
  }
  return { key: mine.key, removed };
}

export function createAccountService(deps: AccountServiceDeps): AccountService {
  const locks = new Map<string, Promise<unknown>>();

  async function consumerOf(token: string): Promise<{ consumer: KongConsumer; keysAtSend: string }> {
    const claims = deps.signer.verify('account', token);
    const email = typeof claims.e === 'string' ? claims.e : '';
    const consumer = await deps.consumers.get(email);
    if (!consumer || !isSignupConsumer(consumer)) throw new SignupError('not_started', 400, 'There is no account with this email any more. Sign up again to get a new key.');
    return { consumer, keysAtSend: typeof claims.k === 'string' ? claims.k : '' };
  }

  return {
    async requestLink(email) {
      const consumer = await deps.consumers.get(email);
      const keys = consumer && isSignupConsumer(consumer) ? await deps.consumers.listKeys(consumer.id) : [];
      if (!consumer || keys.length === 0) return 'no_account';
      const token = deps.signer.sign('account', { e: email, k: keysDigest(keys) }, deps.linkTtlMinutes * 60);
      await deps.mailer.send(accountMail(deps.productName, email, `${deps.publicUrl}/signup/account/open?token=${encodeURIComponent(token)}`, deps.linkTtlMinutes));
      return 'sent';
    },
    async setSpendCap(token, cap) {
      const { consumer } = await consumerOf(token);
      if (!deps.access) throw new SignupError('not_started', 400, 'Billing is not set up for this account.');
      await setSpendCap({ ...deps, access: deps.access }, consumerAsDeveloper(consumer), cap);
      return this.open(token);
    },
    async open(token) {
      const { consumer, keysAtSend } = await consumerOf(token);
      const plan = consumerSignup(consumer).plan;
      const [keys, billing] = await Promise.all([deps.consumers.listKeys(consumer.id), billingOf(deps, consumer)]);
      return {
        email: consumer.username ?? '',
        plan,
        planName: deps.plans?.plans.find((entry) => entry.id === plan)?.name ?? plan,
        ...billing,
        used: keys.length === 0 || keysDigest(keys) !== keysAtSend,
      };
    },
    async rotateKey(token) {
      const { consumer, keysAtSend } = await consumerOf(token);
      return serialized(locks, consumer.id, async () => {
        const old = await deps.consumers.listKeys(consumer.id);
        if (old.length === 0 || keysDigest(old) !== keysAtSend) throw used();
        const { key, removed } = deps.consumers.stageKey ? await replaceStaged(deps, consumer, old) : { key: await replaceAdded(deps, consumer, old), removed: old.length };
        deps.logger.info({ event: 'signup_key_replaced', consumer_id: consumer.id, removed });
        return { key, oldKeyStopped: removed === old.length };
      });
    },
    async billingPortalUrl(token) {
      const { consumer } = await consumerOf(token);
      const outcome = await deps.provisioner.provisionDeveloper(consumerAsDeveloper(consumer), { mode: 'interactive' });
      return portalSessionUrl(deps, outcome.customerId);
    },
  };
}
