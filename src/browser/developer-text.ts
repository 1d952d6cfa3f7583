/**
 * Text for developers, not operators: Kong's raw register errors turned into sentences where
 * recognised (the rest passed through), and provisioner error codes mapped to what a developer
 * can do (the server's message is written for the operator and stays in the console).
 */

/** Kong's `meta.full_name` -> "Full name". */
function fieldName(path: string): string {
  const name = path.replace(/^meta\./, '').replace(/_/g, ' ');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * A sentence for Kong's register error, or undefined to show Kong's own words. Recognised: the
 * unique violation on email (`UNIQUE violation detected on '{email="…"}'`) and schema violations
 * (`2 schema violations (email: missing email; meta.full_name: required field missing)`).
 */
export function kongRegisterMessage(message: unknown): string | undefined {
  if (typeof message !== 'string') return undefined;
  if (/^UNIQUE violation detected on '\{email=/.test(message)) return 'An account with this email already exists. Log in instead?';
  const fields = /^(?:\d+ )?schema violations? \((.+)\)$/.exec(message)?.[1];
  if (!fields) return undefined;
  return fields
    .split('; ')
    .map((part) => {
      const at = part.indexOf(': ');
      if (at < 0) return `${part}.`;
      const name = fieldName(part.slice(0, at));
      const what = part.slice(at + 2);
      return /required|missing/.test(what) ? `${name} is required.` : `${name}: ${what}.`;
    })
    .join(' ');
}

/** What the register form says when billing setup failed, by error code (busy answers are retried, never shown). */
export function billingFailedText(code: string): string {
  return `Your account is created, but ${code === 'plan_not_found' ? 'that plan is not offered' : 'billing is not set up yet'}. Contact the API provider if your dashboard shows no plan.`;
}
