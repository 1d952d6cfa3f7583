/**
 * What the developer sees: the "Setting up billing…" state in the register form and the notices
 * after it. Every piece of text goes in through textContent, never as HTML: messages come from
 * a server and must not be able to inject markup.
 */

const NOTICE_STORAGE_KEY = 'kong-portal-monetization:notice';
const CLASS_PREFIX = 'portal-monetization';

export const TEXT = {
  busy: 'Setting up billing…',
  pending: 'Your account is created. Billing setup will finish shortly; you can carry on.',
} as const;

interface Notice {
  tone: 'info' | 'error';
  text: string;
}

/** The theme's register form (`#register`), else any form with an email field. */
export function findRegisterForm(doc: Document): HTMLFormElement | null {
  const byId = doc.getElementById('register');
  if (byId instanceof HTMLFormElement) return byId;
  const email = doc.querySelector('form [name="email"]');
  return email instanceof HTMLInputElement ? email.form : null;
}

/** Marks the form busy (text, aria-busy, submit buttons disabled); returns the undo. */
export function showBusy(form: HTMLFormElement | null): () => void {
  if (!form) return () => undefined;
  const status = form.ownerDocument.createElement('p');
  status.className = `${CLASS_PREFIX}-busy`;
  status.setAttribute('role', 'status');
  status.textContent = TEXT.busy;
  form.appendChild(status);
  form.setAttribute('aria-busy', 'true');
  const disabled = Array.from(form.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button[type="submit"], button:not([type]), input[type="submit"]')).filter(
    (button) => !button.disabled,
  );
  for (const button of disabled) button.disabled = true;
  return () => {
    status.remove();
    form.removeAttribute('aria-busy');
    for (const button of disabled) button.disabled = false;
  };
}

function noticeElement(doc: Document, notice: Notice): HTMLElement {
  const element = doc.createElement('div');
  element.className = `${CLASS_PREFIX}-notice ${CLASS_PREFIX}-notice--${notice.tone}`;
  // An error interrupts screen readers; the pending notice waits its turn.
  element.setAttribute('role', notice.tone === 'error' ? 'alert' : 'status');
  element.textContent = notice.text;
  return element;
}

/** Shows the notice in the form now, and keeps it for the next page the theme redirects to. */
export function showNotice(doc: Document, form: HTMLFormElement | null, notice: Notice): void {
  if (form) {
    form.querySelector(`.${CLASS_PREFIX}-notice`)?.remove();
    form.appendChild(noticeElement(doc, notice));
  }
  try {
    doc.defaultView?.sessionStorage.setItem(NOTICE_STORAGE_KEY, JSON.stringify(notice));
  } catch {
    // Storage may be disabled; the in-form notice is still there.
  }
}

/** On page load: shows (once) a notice left by the register page before its redirect. */
export function showCarriedNotice(doc: Document): void {
  let notice: Notice | undefined;
  try {
    const storage = doc.defaultView?.sessionStorage;
    const raw = storage?.getItem(NOTICE_STORAGE_KEY);
    storage?.removeItem(NOTICE_STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : undefined;
    if (typeof parsed === 'object' && parsed !== null) {
      const { tone, text } = parsed as Record<string, unknown>;
      if ((tone === 'info' || tone === 'error') && typeof text === 'string') notice = { tone, text };
    }
  } catch {
    return;
  }
  if (!notice || !doc.body) return;
  const element = noticeElement(doc, notice);
  Object.assign(element.style, { margin: '0', padding: '12px 16px', background: notice.tone === 'error' ? '#fdecea' : '#eef6fc', color: '#1a1a1a' });
  const close = doc.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.setAttribute('aria-label', 'Dismiss');
  Object.assign(close.style, { float: 'right', border: '0', background: 'none', cursor: 'pointer', fontSize: '1.2em' });
  close.addEventListener('click', () => element.remove());
  element.insertBefore(close, element.firstChild);
  doc.body.insertBefore(element, doc.body.firstChild);
}
