/**
 * The hosted signup's HTML: plain forms that work without JavaScript, every interpolated value
 * escaped, labels tied to inputs, errors announced (role=alert) and linked to their field. Styles
 * and the one script (the copy button) carry the response's CSP nonce.
 */
import type { PublicPlan } from '../../shared/provisioner-api.ts';

export interface Branding {
  productName: string;
  logoUrl: string | undefined;
  accentColor: string;
  termsUrl: string | undefined;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const e = escapeHtml;

function layout(brand: Branding, nonce: string, title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${e(title)} · ${e(brand.productName)}</title>
<style nonce="${e(nonce)}">
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0} label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=email]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8a939d;border-radius:4px}
fieldset{border:1px solid #c9ced4;border-radius:4px;margin-top:1rem} fieldset label{font-weight:400;margin-top:.25rem}
button,.button{display:inline-block;margin-top:1.25rem;padding:.6rem 1.2rem;font:inherit;color:#fff;background:${e(brand.accentColor)};border:0;border-radius:4px;text-decoration:none;cursor:pointer}
.error{color:#a4161a} .hint{color:#59636e;font-size:.9rem} code,pre{background:#f0f2f4;padding:.2rem .4rem;border-radius:3px;overflow-x:auto}
pre{padding:.75rem;white-space:pre;overflow-x:auto} .logo{max-height:48px}
.notice{padding:.5rem .75rem;border-radius:4px;background:#eef4fb} .banner{padding:.5rem .75rem;border-radius:4px;background:#fff8e1}
.banner--refused{background:#fdecea}
</style></head><body><main>
${brand.logoUrl ? `<img class="logo" src="${e(brand.logoUrl)}" alt="${e(brand.productName)}">` : ''}
${body}
</main>${script ? `<script nonce="${e(nonce)}">${script}</script>` : ''}</body></html>`;
}

export interface FormView {
  csrf: string;
  plans: PublicPlan[];
  values: { name?: string; email?: string; plan?: string };
  errors: Partial<Record<'name' | 'email' | 'plan' | 'terms' | 'form', string>>;
}

function fieldError(id: string, message: string | undefined): string {
  return message ? `<p class="error" id="${id}-error">${e(message)}</p>` : '';
}

const described = (id: string, message: string | undefined) => (message ? ` aria-invalid="true" aria-describedby="${id}-error"` : '');

export function signupFormPage(brand: Branding, nonce: string, view: FormView): string {
  const { values, errors } = view;
  const chosen = values.plan ?? view.plans.find((plan) => plan.default)?.id ?? view.plans[0]?.id;
  const plans = view.plans
    .map(
      (plan) =>
        `<label><input type="radio" name="plan" value="${e(plan.id)}"${plan.id === chosen ? ' checked' : ''} required> <strong>${e(plan.name)}</strong> — ${e(plan.priceSummary)}${plan.description ? `<br><span class="hint">${e(plan.description)}</span>` : ''}${plan.limitsSummary ? `<br><span class="hint">${e(plan.limitsSummary)}</span>` : ''}</label>`,
    )
    .join('\n');
  const terms = brand.termsUrl
    ? `<label><input type="checkbox" name="terms" value="accepted" required${described('terms', errors.terms)}> I accept the <a href="${e(brand.termsUrl)}" target="_blank" rel="noopener noreferrer">terms of service</a></label>${fieldError('terms', errors.terms)}`
    : '';
  const body = `<h1>Sign up for ${e(brand.productName)}</h1>
${errors.form ? `<p class="error" role="alert">${e(errors.form)}</p>` : ''}
${Object.keys(errors).length && !errors.form ? '<p class="error" role="alert">Please fix the fields marked below.</p>' : ''}
<form method="post" action="signup" novalidate>
<input type="hidden" name="csrf" value="${e(view.csrf)}">
<label for="name">Your name</label>
<input type="text" id="name" name="name" autocomplete="name" maxlength="100" required value="${e(values.name ?? '')}"${described('name', errors.name)}>
${fieldError('name', errors.name)}
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="email" maxlength="254" required value="${e(values.email ?? '')}"${described('email', errors.email)}>
${fieldError('email', errors.email)}
<fieldset${described('plan', errors.plan)}><legend>Plan</legend>
${plans}
</fieldset>
${fieldError('plan', errors.plan)}
${terms}
<button type="submit">Email me a sign-in link</button>
<p class="hint">We email you a link to confirm your address. Nothing is created until you open it.</p>
</form>
<p class="hint">Already signed up? <a href="signup/account">Manage my account</a>.</p>`;
  return layout(brand, nonce, 'Sign up', body);
}

export function messagePage(brand: Branding, nonce: string, title: string, paragraphs: string[], action?: { href: string; label: string }): string {
  const body = `<h1>${e(title)}</h1>\n${paragraphs.map((p) => `<p>${e(p)}</p>`).join('\n')}${action ? `\n<a class="button" href="${e(action.href)}">${e(action.label)}</a>` : ''}`;
  return layout(brand, nonce, title, body);
}

/**
 * The email link lands here; the work happens on the POST, so mail scanners that open links create
 * nothing. `keyReplaced`: an account link whose key was already replaced still opens billing.
 */
export function confirmPage(brand: Branding, nonce: string, token: string, email: string, purpose: 'signup' | 'account' = 'signup', keyReplaced = false): string {
  const title = purpose === 'signup' ? 'Confirm your signup' : 'Open your account';
  const what = purpose === 'signup' ? 'to create your API key' : keyReplaced ? 'to manage your billing' : 'to manage your key and billing';
  const body = `<h1>${title}</h1>
${keyReplaced ? `<p class="notice" role="status">This link was already used to replace your key. It still opens your billing; to replace the key again, <a href="../account">ask for a new link</a>.</p>
` : ''}<p>Continue as <strong>${e(email)}</strong> ${what}.</p>
<form method="post" action="${purpose === 'signup' ? 'verify' : 'open'}"><input type="hidden" name="token" value="${e(token)}"><button type="submit">Continue</button></form>`;
  return layout(brand, nonce, title, body);
}

/**
 * What happens to the previous key after a replacement. Normally it is gone; on AWS a failed
 * deletion leaves it working until the new key's first call (reconcile removes it then).
 */
function previousKeyLine(replacement: { oldKeyStopped: boolean } | undefined): string {
  if (!replacement) return '';
  return replacement.oldKeyStopped
    ? `<p>Your previous key stops working within a few seconds.</p>\n`
    : `<p>Your previous key still works for now: we remove it shortly after your first call with this one. Move your apps to this key.</p>\n`;
}

/**
 * keyHeader: Kong's key-auth reads `apikey`; AWS API Gateway reads `x-api-key`. replacement: set
 * when "My account" replaced the key, to say what became of the previous one.
 */
export function keyPage(brand: Branding, nonce: string, key: string, apiUrl: string | undefined, accountUrl: string, keyHeader = 'apikey', replacement?: { oldKeyStopped: boolean }): string {
  // One argument per line: the URL never wraps mid-way (the block scrolls sideways instead).
  const curl = `curl -H '${keyHeader}: ${key}' \\\n  ${apiUrl ?? 'https://<your-gateway>/<your-api>'}`;
  const body = `<h1>Your API key</h1>
<p role="status"><strong>Copy it now: this page shows it only once.</strong> We do not email it.</p>
<p>Your key becomes active within a few seconds: the gateway applies new keys and access changes shortly after they are made.</p>
${previousKeyLine(replacement)}<label for="api-key">API key</label>
<input type="text" id="api-key" readonly value="${e(key)}">
<button type="button" id="copy" hidden>Copy key</button> <span id="copied" class="hint" aria-live="polite"></span>
<h2>Try it</h2>
<p>Send the key in the <code>${e(keyHeader)}</code> header:</p>
<pre><code>${e(curl)}</code></pre>
<p class="hint">Lost it later? <a href="${e(accountUrl)}">Manage your account</a> to replace it or your payment method.</p>`;
  const script = `document.getElementById('copy').hidden=false;document.getElementById('copy').addEventListener('click',function(){var k=document.getElementById('api-key');navigator.clipboard.writeText(k.value).then(function(){document.getElementById('copied').textContent='Copied.';},function(){k.select();document.getElementById('copied').textContent='Press Ctrl+C to copy.';});});`;
  return layout(brand, nonce, 'Your API key', body, script);
}

export function accountRequestPage(brand: Branding, nonce: string, csrf: string, error?: string): string {
  const body = `<h1>Your ${e(brand.productName)} account</h1>
${error ? `<p class="error" role="alert">${e(error)}</p>` : ''}
<p>We email you a link to replace your API key or manage your billing.</p>
<form method="post" action="account">
<input type="hidden" name="csrf" value="${e(csrf)}">
<label for="email">Email you signed up with</label>
<input type="email" id="email" name="email" autocomplete="email" maxlength="254" required>
<button type="submit">Email me a link</button>
</form>`;
  return layout(brand, nonce, 'Your account', body);
}

interface AccountPageView {
  email: string;
  planName: string | undefined;
  /** The portal panel's banner: refused, grace or a card needed (absent when access is allowed). */
  billing?: { access: 'grace' | 'refused'; message: string } | undefined;
  /** This link already replaced the key once. */
  used?: boolean;
  /** A payment waiting for 3-D Secure confirmation: Stripe's hosted invoice page. */
  confirmPaymentUrl?: string | undefined;
  /** Calls and amount so far this period, in one sentence. */
  usage?: string | undefined;
  /** The monthly spend cap in cents (null: none); absent: billing not set up, no form. */
  spendCap?: number | null | undefined;
  /** Why the last spend cap change was refused. */
  spendCapError?: string | undefined;
  /** "80 % of your monthly spend cap used" (or of the quota): an alert went out this period. */
  usageAlert?: string | undefined;
}

/** The developer's monthly spend cap: calls are refused (402) once the period's amount reaches it. */
function spendCapForm(hidden: string, view: AccountPageView): string {
  if (view.spendCap === undefined) return '';
  const current = view.spendCap === null ? '' : (view.spendCap / 100).toFixed(2);
  const error = view.spendCapError ? `<p class="error" id="spend_cap-error">${e(view.spendCapError)}</p>` : '';
  return `
<h2>Spend cap</h2>
<p class="hint">${view.spendCap === null ? 'No monthly spend cap is set.' : `Calls are refused once this billing period's usage reaches ${e(current)}.`} Alerts go out at 80 % and 100 %. Leave empty to remove the cap.</p>
<form method="post" action="spend-cap">${hidden}<label for="spend_cap">Monthly spend cap</label><input type="text" inputmode="decimal" id="spend_cap" name="spend_cap" value="${e(current)}"${view.spendCapError ? ' aria-invalid="true" aria-describedby="spend_cap-error"' : ''}>${error}<button type="submit">Save the cap</button></form>`;
}

export function accountPage(brand: Branding, nonce: string, token: string, view: AccountPageView): string {
  const hidden = `<input type="hidden" name="token" value="${e(token)}">`;
  const key = view.used
    ? `<p class="notice">This link was already used to replace your key. To replace it again, <a href="../account">ask for a new link</a>.</p>`
    : `<p>Replacing your key stops the old one and starts the new one within a few seconds; the new one is shown once.</p>
<form method="post" action="rotate">${hidden}<button type="submit">Replace my API key</button></form>`;
  const banner = view.billing ? `<p class="banner banner--${e(view.billing.access)}" role="alert">${e(view.billing.message)}</p>
` : '';
  const confirm = view.confirmPaymentUrl && /^https?:\/\//i.test(view.confirmPaymentUrl)
    ? `<p class="banner banner--refused" role="alert">Your bank asks you to confirm your last payment. <a href="${e(view.confirmPaymentUrl)}">Confirm the payment</a> to keep API access.</p>
`
    : '';
  const body = `<h1>Your ${e(brand.productName)} account</h1>
<p>Signed in as <strong>${e(view.email)}</strong>${view.planName ? `, on the <strong>${e(view.planName)}</strong> plan` : ''}.</p>
${confirm}<h2>API key</h2>
${key}
<h2>Billing</h2>${view.usage ? `\n<p class="usage">${e(view.usage)}</p>` : ''}${view.usageAlert ? `\n<p class="banner banner--grace" role="status">${e(view.usageAlert)}</p>` : ''}
${banner}<p class="hint">Stripe's billing page opens: payment method, invoices and plan.</p>
<form method="post" action="billing">${hidden}<button type="submit">Manage payment method and invoices</button></form>${spendCapForm(hidden, view)}`;
  return layout(brand, nonce, 'Your account', body);
}
