/**
 * The dashboard's billing panel: plan, why access is refused or in grace, "Add a payment method"
 * (Stripe Checkout, offered on every visit until a card is saved) and "Manage billing" (Stripe's
 * customer portal). The data comes from the same proven POST /provision the signup sends, with the
 * logged-in developer read from Kong's portal API as the proof. All text goes in as text.
 */
import type { BillingStatusResponse } from '../shared/provisioner-api.ts';
import { capTextToCents, centsToCapText } from '../shared/spend-cap-amount.ts';
import type { BrowserConfig } from './config.ts';
import type { ProvisionOutcome } from './provision-client.ts';

const CLASS = 'portal-monetization-billing';

export const BILLING_TEXT = {
  title: 'Billing',
  plan: 'Plan: ',
  noPlan: 'none yet',
  addCard: 'Add a payment method',
  confirmPayment: 'Confirm the payment',
  manage: 'Manage billing',
  // Kong applies access changes after db_update_frequency (5 s by default): never promise "now".
  allowed: 'API access is on. After a payment or a new key, allow a few seconds for the gateway to apply it.',
  manageNote: 'Stripe emails you a sign-in code.',
  spendCap: 'Monthly spend cap',
  spendCapHint: 'Calls stop when a period costs this much; alerts at 80 and 100 %. Empty: no cap.',
  spendCapSave: 'Save',
  spendCapInvalid: 'Enter an amount like 49.99, or nothing.',
  spendCapFailed: 'Not saved; try again.',
} as const;

interface LoggedInDeveloper {
  id: string;
  email: string;
}

/** Kong's base theme mounts its dashboard app on #portal-dashboard; the stand-in theme uses #dashboard-page. */
export function findDashboard(doc: Document): { parent: Node; before: Node | null } | undefined {
  const mount = doc.querySelector('#portal-dashboard[data-page="dashboard"]');
  // Kong's app owns the mount point's children, so the panel goes just before it.
  if (mount?.parentNode) return { parent: mount.parentNode, before: mount };
  const page = doc.getElementById('dashboard-page');
  // Under the page's heading, not above it.
  const heading = page?.querySelector('h1');
  return page ? { parent: heading?.parentNode ?? page, before: heading ? heading.nextSibling : page.firstChild } : undefined;
}

/** GET {portal API}/developer with the session cookie; undefined when nobody is logged in. */
export async function fetchDeveloper(apiUrl: string, fetchFn: typeof fetch): Promise<LoggedInDeveloper | undefined> {
  const response = await fetchFn(`${apiUrl}/developer`, { credentials: 'include', headers: { Accept: 'application/json' } });
  if (!response.ok) return undefined;
  const body = (await response.json()) as { id?: unknown; email?: unknown } | null;
  return typeof body?.id === 'string' && typeof body.email === 'string' ? { id: body.id, email: body.email } : undefined;
}

function link(doc: Document, href: string, text: string, className: string): HTMLAnchorElement {
  const anchor = doc.createElement('a');
  anchor.href = href;
  anchor.className = className;
  anchor.textContent = text;
  return anchor;
}

/** Sends a new cap (cents, null removes it) and answers the billing status after it, or the error message. */
type SaveSpendCap = (cents: number | null) => Promise<{ billing: BillingStatusResponse } | { error: string }>;

/** The spend cap form: shown when billing is set up (the answer carries spend_cap). */
function spendCapForm(doc: Document, cap: number | null, save: SaveSpendCap, rerender: (billing: BillingStatusResponse) => void): HTMLFormElement {
  const form = doc.createElement('form');
  // The input inside its label: named for screen readers without an id.
  const label = doc.createElement('label');
  const input = doc.createElement('input');
  Object.assign(input, { name: 'spend_cap', inputMode: 'decimal', value: cap === null ? '' : centsToCapText(cap) });
  label.append(`${BILLING_TEXT.spendCap} `, input);
  const hint = doc.createElement('small');
  hint.textContent = BILLING_TEXT.spendCapHint;
  const error = doc.createElement('p');
  error.setAttribute('role', 'alert');
  const button = doc.createElement('button');
  button.textContent = BILLING_TEXT.spendCapSave;
  form.append(label, button, hint, error);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const cents = capTextToCents(input.value);
    if (cents === undefined) return void (error.textContent = BILLING_TEXT.spendCapInvalid);
    save(cents).then(
      (answer) => ('billing' in answer ? rerender(answer.billing) : (error.textContent = answer.error)),
      () => (error.textContent = BILLING_TEXT.spendCapFailed),
    );
  });
  return form;
}

export function renderBillingPanel(doc: Document, billing: BillingStatusResponse, saveSpendCap?: SaveSpendCap): HTMLElement {
  const panel = doc.createElement('section');
  panel.className = CLASS;
  panel.setAttribute('aria-label', BILLING_TEXT.title);
  const title = doc.createElement('h2');
  title.textContent = BILLING_TEXT.title;
  const plan = doc.createElement('p');
  const name = doc.createElement('strong');
  name.className = `${CLASS}-plan`;
  name.textContent = billing.plan_name ?? billing.plan ?? BILLING_TEXT.noPlan;
  plan.append(BILLING_TEXT.plan, name);
  panel.append(title, plan);
  if (billing.usage) {
    const usage = doc.createElement('p');
    usage.className = `${CLASS}-usage`;
    usage.textContent = billing.usage.summary;
    panel.append(usage);
  }
  if (billing.usage_alert) {
    const alert = doc.createElement('p');
    alert.className = `${CLASS}-banner ${CLASS}-banner--alert`;
    alert.setAttribute('role', 'status');
    alert.textContent = billing.usage_alert;
    alert.style.cssText = 'padding:8px 12px;background:#fff8e1';
    panel.append(alert);
  }
  if (billing.access !== 'allowed') {
    const banner = doc.createElement('p');
    banner.className = `${CLASS}-banner ${CLASS}-banner--${billing.access}`;
    banner.setAttribute('role', 'alert');
    banner.textContent = billing.message;
    Object.assign(banner.style, { padding: '8px 12px', background: billing.access === 'refused' ? '#fdecea' : '#fff8e1' });
    panel.append(banner);
  } else {
    const note = doc.createElement('p');
    note.className = `${CLASS}-note`;
    note.textContent = BILLING_TEXT.allowed;
    panel.append(note);
  }
  const actions = doc.createElement('p');
  // Apart, and wrapping on narrow screens: run together they read as one link.
  actions.style.cssText = 'display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center';
  if (billing.confirm_url) actions.append(link(doc, billing.confirm_url, BILLING_TEXT.confirmPayment, `${CLASS}-confirm button`));
  if (billing.checkout_url) actions.append(link(doc, billing.checkout_url, BILLING_TEXT.addCard, `${CLASS}-checkout button`));
  if (billing.manage_url) {
    actions.append(link(doc, billing.manage_url, BILLING_TEXT.manage, `${CLASS}-manage`));
    // Stripe's customer portal login asks for the email and sends a code: say so before the click.
    const note = doc.createElement('small');
    note.textContent = BILLING_TEXT.manageNote;
    actions.append(note);
  }
  if (actions.firstChild) panel.append(actions);
  if (saveSpendCap && billing.spend_cap !== undefined)
    panel.append(spendCapForm(doc, billing.spend_cap, saveSpendCap, (next) => panel.replaceWith(renderBillingPanel(doc, next, saveSpendCap))));
  return panel;
}

/** POST /billing/spend-cap with the page's proof (the same as POST /provision's). */
export function spendCapSaver(config: BrowserConfig, developer: LoggedInDeveloper, fetchFn: typeof fetch): SaveSpendCap {
  return async (cents) => {
    const response = await fetchFn(`${config.provisionerUrl}/billing/spend-cap`, {
      method: 'POST',
      // text/plain keeps it a CORS simple request, as the signup's call; the provisioner checks the origin.
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ email: developer.email, developer_id: developer.id, spend_cap: cents }),
    });
    const body = (await response.json()) as BillingStatusResponse | { error?: { message?: string } };
    if (response.ok) return { billing: body as BillingStatusResponse };
    return { error: (body as { error?: { message?: string } }).error?.message ?? BILLING_TEXT.spendCapFailed };
  };
}

export interface PanelDeps {
  document: Document;
  config: BrowserConfig;
  /** Kong's portal API base (`Kong.getApiUrl()`). */
  apiUrl: string;
  fetch: typeof fetch;
  provision(config: BrowserConfig, email: string, developerId: string): Promise<ProvisionOutcome>;
}

/** On a dashboard page with a logged-in developer whose billing is set up: shows the panel. */
export async function showBillingPanel(deps: PanelDeps): Promise<HTMLElement | undefined> {
  if (!findDashboard(deps.document)) return undefined;
  const developer = await fetchDeveloper(deps.apiUrl, deps.fetch);
  if (!developer) return undefined;
  const outcome = await deps.provision(deps.config, developer.email, developer.id);
  const billing = outcome.status === 'active' ? outcome.result.billing : undefined;
  if (!billing) return undefined;
  deps.document.querySelector(`.${CLASS}`)?.remove();
  // Looked up again: the page may have changed while the requests ran.
  const place = findDashboard(deps.document);
  if (!place) return undefined;
  const panel = renderBillingPanel(deps.document, billing, spendCapSaver(deps.config, developer, deps.fetch));
  place.parent.insertBefore(panel, place.before);
  return panel;
}
