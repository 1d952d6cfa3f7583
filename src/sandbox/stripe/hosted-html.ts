/**
 * Plain HTML for the emulator-hosted pages (Checkout, customer portal, portal login): no
 * framework, no script; every piece of text goes through `escapeHtml` (or the `html` tag).
 */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Raw (already escaped) markup, so nested `html` templates are not escaped twice. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = string | number | null | undefined | SafeHtml | readonly SafeHtml[];

/** Tagged template that escapes every interpolated value unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    if (value instanceof SafeHtml) out += value.value;
    else if (Array.isArray(value)) out += value.map((v: SafeHtml) => v.value).join('');
    else if (value !== null && value !== undefined) out += escapeHtml(String(value));
    out += strings[i + 1] ?? '';
  });
  return new SafeHtml(out);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}
label{display:block;margin:.6rem 0 .2rem}input,select{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}
button{margin-top:1rem;font-size:1rem;padding:.5rem 1rem}.error{color:#b00020;font-weight:600}.note{color:#555;font-size:.9rem}
section{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .4rem}
.banner{background:#fff3cd;padding:.4rem .6rem;font-size:.85rem}`;

/** A whole page; the banner says this is the emulator, not Stripe. */
export function page(title: string, body: SafeHtml, status = 200): Response {
  const document = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${new SafeHtml(STYLE)}</style></head>
<body><p class="banner">Stripe emulator (test mode): this page stands in for a Stripe-hosted page.</p>
<h1>${title}</h1>
${body}
</body></html>`;
  return new Response(document.value, { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}

/** The card fields shared by Checkout and the portal's "update payment method". */
export function cardFields(): SafeHtml {
  return html`<label for="cardnumber">Card number</label>
<input id="cardnumber" name="cardnumber" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required>
<label for="exp">Expiry (MM / YY)</label>
<input id="exp" name="exp" autocomplete="cc-exp" placeholder="12 / 34" required>
<label for="cvc">CVC</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required>`;
}

export function errorLine(message: string | undefined): SafeHtml {
  return message ? html`<p class="error" role="alert">${message}</p>` : html``;
}

export function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

/** Amount in minor units as "12.34 USD". */
export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '';
  return `${(amount / 100).toFixed(2)} ${(currency ?? '').toUpperCase()}`;
}

/**
 * Stripe's 3-D Secure test challenge: the form just posted comes back with the person's answer
 * (`authentication` = complete | fail). The fields travel as hidden inputs (test cards only).
 */
export function challengePage(action: string, fields: Readonly<Record<string, string>>): Response {
  const hidden = Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return page(
    '3D Secure test page',
    html`<p>Your bank asks you to confirm this card. This is a test authentication: choose the outcome.</p>
<form method="post" action="${action}">${hidden}
<button type="submit" name="authentication" value="complete">Complete authentication</button>
<button type="submit" name="authentication" value="fail">Fail authentication</button>
</form>`,
  );
}
