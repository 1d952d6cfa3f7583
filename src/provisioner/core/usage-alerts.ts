/**
 * Alerts at 80 % and 100 % of a plan's quota (hard or soft) and of the developer's spend cap, once
 * per threshold per billing period, even with several provisioners or restarts. The claim is made
 * in Stripe: the customer's metadata records the highest threshold sent for the period
 * (`kpm_alert_quota`, `kpm_alert_spend_cap` = "<period end>:<threshold>"), written with an
 * idempotency key unique to customer, kind, period and threshold. Only the process whose write was
 * not a replay (Stripe's `Idempotent-Replayed` header) sends; the others see the replay, or the
 * mark once written, and send nothing. At most once: a crash between the claim and the send loses
 * that alert (the next threshold still goes out).
 */
import { createHmac } from 'node:crypto';
import type Stripe from 'stripe';
import { sha256Hex } from '../../shared/sha256.ts';
import type { Plan } from '../../shared/plans.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';
import { errorFields } from '../../shared/provision-log.ts';
import { formatCap } from './access-decision.ts';
import type { StripeAccess } from './stripe-lookups.ts';
import { spendCapOf, type PeriodUsage } from './usage-limits.ts';

type AlertKind = 'quota' | 'spend_cap';
const ALERT_THRESHOLDS = [80, 100] as const;
type AlertThreshold = (typeof ALERT_THRESHOLDS)[number];
const ALERT_METADATA_KEYS: Record<AlertKind, string> = { quota: 'kpm_alert_quota', spend_cap: 'kpm_alert_spend_cap' };

export interface UsageAlert {
  kind: AlertKind;
  threshold: AlertThreshold;
  developerId: string;
  email: string;
  /** Calls (quota) or cents (spend cap) so far this period. */
  used: number;
  limit: number;
  /** The spend cap's currency. */
  currency?: string;
  /** Unix seconds the period ends. */
  periodEnd: number;
}

export interface AlertChannel {
  readonly name: string;
  send(alert: UsageAlert): Promise<void>;
}

/** The highest threshold `used` has reached of `limit`, or undefined below 80 %. */
export function reachedThreshold(used: number, limit: number): AlertThreshold | undefined {
  return [...ALERT_THRESHOLDS].reverse().find((threshold) => used * 100 >= limit * threshold);
}

/** The highest threshold already sent for this period, from the customer's metadata. */
function sentThreshold(customer: Pick<Stripe.Customer, 'metadata'>, kind: AlertKind, periodEnd: number): number {
  const [period, threshold] = (customer.metadata?.[ALERT_METADATA_KEYS[kind]] ?? '').split(':');
  return period === String(periodEnd) ? Number(threshold) || 0 : 0;
}

/** The alerts the figures call for that the customer's metadata does not show as sent. */
function dueAlerts(plan: Pick<Plan, 'limits'> | undefined, customer: Pick<Stripe.Customer, 'metadata'>, usage: PeriodUsage, who: { developerId: string; email: string }): UsageAlert[] {
  const due: UsageAlert[] = [];
  const consider = (kind: AlertKind, used: number, limit: number, currency?: string) => {
    const threshold = reachedThreshold(used, limit);
    if (threshold && sentThreshold(customer, kind, usage.periodEnd) < threshold) due.push({ kind, threshold, ...who, used, limit, periodEnd: usage.periodEnd, ...(currency ? { currency } : {}) });
  };
  const quota = plan?.limits?.quota;
  if (quota) consider('quota', usage.calls, quota.calls);
  const cap = spendCapOf(customer);
  if (cap !== undefined) consider('spend_cap', usage.amountSoFar, cap, usage.currency);
  return due;
}

interface AlertDeps extends StripeAccess {
  channels: readonly AlertChannel[];
  logger: ProvisionLogger;
}

/** Records the alert as sent in Stripe: 'claimed' only for the one process whose write was not a replay; 'failed' when Stripe could not be written (try again later). */
async function claim(deps: AlertDeps, customerId: string, alert: UsageAlert): Promise<'claimed' | 'taken' | 'failed'> {
  const key = `kpm-alert-${sha256Hex(`${customerId}\u0000${alert.kind}\u0000${alert.periodEnd}\u0000${alert.threshold}`)}`;
  try {
    const updated = await deps.stripe.customers.update(customerId, { metadata: { [ALERT_METADATA_KEYS[alert.kind]]: `${alert.periodEnd}:${alert.threshold}` } }, { idempotencyKey: key });
    const headers = (updated.lastResponse?.headers ?? {}) as Record<string, string | undefined>;
    return headers['idempotent-replayed'] === 'true' ? 'taken' : 'claimed';
  } catch (error) {
    // Another process holds the same key in flight (Stripe's 409), or Stripe failed: not ours to send now.
    deps.logger.warn({ event: 'usage_alert_claim_failed', developer_id: alert.developerId, kind: alert.kind, threshold: alert.threshold, ...errorFields(error) });
    return 'failed';
  }
}

/**
 * Sends the alerts the figures call for, each once per period across processes; answers those this
 * process sent, and how many could not be claimed (Stripe failed: the caller tries again later).
 */
export async function sendUsageAlerts(
  deps: AlertDeps,
  input: { plan: Pick<Plan, 'limits'> | undefined; customer: Stripe.Customer; usage: PeriodUsage; developerId: string; email: string },
): Promise<{ sent: UsageAlert[]; unclaimed: number }> {
  const sent: UsageAlert[] = [];
  let unclaimed = 0;
  if (deps.channels.length === 0) return { sent, unclaimed };
  for (const alert of dueAlerts(input.plan, input.customer, input.usage, { developerId: input.developerId, email: input.email })) {
    const claimed = await claim(deps, input.customer.id, alert);
    if (claimed === 'failed') unclaimed++;
    if (claimed !== 'claimed') continue;
    for (const channel of deps.channels) {
      try {
        await channel.send(alert);
      } catch (error) {
        deps.logger.warn({ event: 'usage_alert_failed', channel: channel.name, developer_id: alert.developerId, kind: alert.kind, threshold: alert.threshold, ...errorFields(error) });
      }
    }
    deps.logger.info({ event: 'usage_alert', developer_id: alert.developerId, kind: alert.kind, threshold: alert.threshold });
    sent.push(alert);
  }
  return { sent, unclaimed };
}

/** The sentence an alert says, for the email and the webhook body. */
function alertText(alert: UsageAlert): string {
  const reset = new Date(alert.periodEnd * 1000).toISOString().slice(0, 10);
  if (alert.kind === 'quota')
    return `${alert.threshold} % of your quota used: ${alert.used.toLocaleString('en-US')} of ${alert.limit.toLocaleString('en-US')} calls this billing period (it resets on ${reset}).`;
  const money = (cents: number) => formatCap(cents, alert.currency ?? 'usd');
  return `${alert.threshold} % of your spend cap reached: ${money(alert.used)} of ${money(alert.limit)} this billing period (it resets on ${reset}).${alert.threshold === 100 ? ' Calls are refused until you raise the cap or the period resets.' : ''}`;
}

/** Email to the developer (SMTP_URL), through any mailer with hosted signup's send shape. */
export function emailChannel(mailer: { send(mail: { to: string; subject: string; text: string }): Promise<void> }, productName: string): AlertChannel {
  return {
    name: 'email',
    send: (alert) =>
      mailer.send({
        to: alert.email,
        subject: `${productName}: ${alert.threshold} % of your ${alert.kind === 'quota' ? 'quota' : 'spend cap'}`,
        text: `Hello,\n\n${alertText(alert)}\n`,
      }),
  };
}

/** Header carrying the admin webhook's signature: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">". */
export const ALERT_SIGNATURE_HEADER = 'x-kpm-signature';

export function signAlertBody(body: string, secret: string, at: number): string {
  return `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`;
}

/** POSTs the alert as JSON to the admin's URL, signed with the shared secret. */
export function webhookChannel(url: string, secret: string, now: () => number = Date.now): AlertChannel {
  return {
    name: 'webhook',
    async send(alert) {
      const body = JSON.stringify({ type: `usage_alert.${alert.kind}`, threshold: alert.threshold, developer_id: alert.developerId, email: alert.email, used: alert.used, limit: alert.limit, ...(alert.currency ? { currency: alert.currency } : {}), period_end: alert.periodEnd, message: alertText(alert) });
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ALERT_SIGNATURE_HEADER]: signAlertBody(body, secret, Math.floor(now() / 1000)) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`the alert webhook answered ${response.status}`);
    },
  };
}

/** This process's figures (the access decision's quota and spend-cap facts), when its reporter fed them. */
interface LiveLimitFigures {
  quota?: { limit: number; used: number };
  spendCap?: { cap: number; spent: number };
}

/**
 * The page's line for the highest threshold reached this period ("80 % of your monthly spend cap
 * used"), the spend cap first on a tie. From this process's own figures when it has them; else from
 * the marks the alerts left on the customer (proven in Stripe, whichever process sent them), which
 * no longer apply once the plan has no quota or the cap was removed, and which `amountSoFar`
 * (Stripe's preview, when read) re-judges after a raised cap.
 */
export function usageAlertLine(
  customer: Pick<Stripe.Customer, 'metadata'> | undefined,
  periodEnd: number | undefined,
  plan: Pick<Plan, 'limits'> | undefined,
  live: LiveLimitFigures = {},
  amountSoFar?: number,
): string | undefined {
  if (!customer || !periodEnd) return undefined;
  const cap = spendCapOf(customer);
  let capLevel = cap === undefined ? 0 : sentThreshold(customer, 'spend_cap', periodEnd);
  if (live.spendCap) capLevel = reachedThreshold(live.spendCap.spent, live.spendCap.cap) ?? 0;
  else if (cap !== undefined && amountSoFar !== undefined) capLevel = Math.min(capLevel, reachedThreshold(amountSoFar, cap) ?? 0);
  let quotaLevel = plan?.limits?.quota ? sentThreshold(customer, 'quota', periodEnd) : 0;
  if (live.quota) quotaLevel = reachedThreshold(live.quota.used, live.quota.limit) ?? 0;
  if (!capLevel && !quotaLevel) return undefined;
  return capLevel >= quotaLevel ? `${capLevel} % of your monthly spend cap used` : `${quotaLevel} % of your plan's quota used`;
}
