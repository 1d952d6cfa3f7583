/**
 * Calls the provisioner's POST /provision with the developer's email and the proof that this page
 * made the signup (the developer id from Kong's register answer), retrying what may heal (network
 * errors, 408, 429, 5xx) on the schedule in retry.ts. Never throws: every path ends in an outcome
 * the register wrapper can hand to the theme.
 */
import type { BillingStatusResponse, ErrorResponse, ProvisionProvenAnswer, ProvisionRequest } from '../shared/provisioner-api.ts';
import type { BrowserConfig } from './config.ts';
import { attemptTimeoutMs, isRetryableStatus, nextRetryDelayMs } from './retry.ts';

export type ProvisionOutcome =
  | { status: 'active'; result: ProvisionProvenAnswer }
  /** Not provisioned yet (202 accepted, not approved yet, or no answer); the Kong event hook or reconcile will finish it. */
  | { status: 'pending'; reason: string }
  /** The provisioner refused (4xx); its message is shown to the developer. */
  | { status: 'failed'; code: string; message: string };

type AttemptResult =
  | { kind: 'done'; outcome: ProvisionOutcome }
  | { kind: 'retry'; reason: string };

export interface ProvisionDeps {
  fetch: typeof fetch;
  sleep(ms: number): Promise<void>;
  now(): number;
}

const browserDeps: ProvisionDeps = {
  fetch: (input, init) => window.fetch(input, init),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

export async function provision(config: BrowserConfig, email: string, developerId: string | undefined, deps: ProvisionDeps = browserDeps): Promise<ProvisionOutcome> {
  const startedAt = deps.now();
  const body: ProvisionRequest = developerId ? { email, developer_id: developerId } : { email };
  for (let retryIndex = 0; ; retryIndex++) {
    const attempt = await attemptOnce(config.provisionerUrl, body, attemptTimeoutMs(config.retryDelaysMs, deps.now() - startedAt), deps);
    if (attempt.kind === 'done') return attempt.outcome;
    const delay = nextRetryDelayMs(config.retryDelaysMs, retryIndex, deps.now() - startedAt);
    if (delay === undefined) return { status: 'pending', reason: attempt.reason };
    await deps.sleep(delay);
  }
}

async function attemptOnce(baseUrl: string, body: ProvisionRequest, timeoutMs: number, deps: ProvisionDeps): Promise<AttemptResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await deps.fetch(`${baseUrl}/provision`, {
      method: 'POST',
      // A string body goes as text/plain: a CORS "simple" request, so no preflight round trip
      // before the signup's call (the provisioner parses it as JSON and checks the origin itself).
      headers: { Accept: 'application/json' },
      body: JSON.stringify(body),
      // The provisioner needs no cookie: it trusts only what Kong says about this email.
      credentials: 'omit',
      signal: abort.signal,
    });
    const payload: unknown = await response.json().catch(() => undefined);
    // 202: no proof, or Kong could not check it; the event hook and reconcile set billing up.
    if (response.status === 202) return { kind: 'done', outcome: { status: 'pending', reason: 'accepted' } };
    if (response.ok) {
      const result = asProvenAnswer(payload);
      if (!result) return { kind: 'retry', reason: `unexpected answer from ${baseUrl}/provision` };
      return { kind: 'done', outcome: result.status === 'active' ? { status: 'active', result } : { status: 'pending', reason: result.developer_status } };
    }
    if (isRetryableStatus(response.status)) return { kind: 'retry', reason: `HTTP ${response.status}` };
    const error = asErrorResponse(payload);
    return {
      kind: 'done',
      outcome: { status: 'failed', code: error?.error.code ?? `http_${response.status}`, message: error?.error.message ?? `HTTP ${response.status}` },
    };
  } catch (error) {
    return { kind: 'retry', reason: abort.signal.aborted ? `no answer within ${timeoutMs} ms` : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The value when it is an http(s) URL: nothing else may become a link or a redirect target. */
function httpUrl(value: unknown): string | undefined {
  return typeof value === 'string' && /^https?:\/\//i.test(value) ? value : undefined;
}

const ACCESS = ['allowed', 'grace', 'refused'];

/** The billing part, keeping only well-typed fields; links must be http(s). */
function asBilling(value: unknown): BillingStatusResponse | undefined {
  if (!isRecord(value) || !ACCESS.includes(value.access as string) || typeof value.message !== 'string') return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const billing: BillingStatusResponse = {
    plan: text(value.plan),
    plan_name: text(value.plan_name),
    access: value.access as BillingStatusResponse['access'],
    reason: text(value.reason) ?? '',
    message: value.message,
  };
  const checkout = httpUrl(value.checkout_url);
  const manage = httpUrl(value.manage_url);
  if (checkout) billing.checkout_url = checkout;
  if (manage) billing.manage_url = manage;
  const confirm = httpUrl(value.confirm_url);
  if (confirm) billing.confirm_url = confirm;
  // Only the sentence is shown; it goes in as text.
  if (isRecord(value.usage) && typeof value.usage.summary === 'string') billing.usage = value.usage as unknown as NonNullable<BillingStatusResponse['usage']>;
  return billing;
}

/** Reads only the fields the page uses; unknown fields (later additions) are ignored. */
function asProvenAnswer(value: unknown): ProvisionProvenAnswer | undefined {
  if (!isRecord(value) || typeof value.developer_status !== 'string') return undefined;
  if (value.status === 'awaiting_approval') return { status: 'awaiting_approval', developer_status: value.developer_status };
  if (value.status !== 'active' || typeof value.plan !== 'string') return undefined;
  const answer: ProvisionProvenAnswer = { status: 'active', developer_status: value.developer_status, plan: value.plan };
  const checkout = httpUrl(value.checkout_url);
  const billing = asBilling(value.billing);
  if (checkout) answer.checkout_url = checkout;
  if (billing) answer.billing = billing;
  return answer;
}

function asErrorResponse(value: unknown): ErrorResponse | undefined {
  if (!isRecord(value) || !isRecord(value.error)) return undefined;
  const { code, message } = value.error;
  return typeof code === 'string' && typeof message === 'string' ? { error: { code, message } } : undefined;
}
