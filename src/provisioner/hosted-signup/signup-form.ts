/**
 * The signup form's fields, validated: a name (1-100 printable characters), an email (at most
 * 254, lowercased: Kong's username and Stripe's email match are case-sensitive), an offered plan,
 * and the terms when TERMS_URL is set. Errors are per field, for the form to show.
 */
import { z } from 'zod';
import type { SignupRequest } from './signup-service.ts';

type FieldErrors = Partial<Record<'name' | 'email' | 'plan' | 'terms', string>>;

// Control characters (C0, DEL, C1) and bidi overrides have no place in a name that lands in Stripe and emails.
function hasUnprintable(value: string): boolean {
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
  }
  return false;
}

const nameSchema = z
  .string()
  .transform((value) => value.trim().replace(/\s+/g, ' '))
  .pipe(
    z
      .string()
      .min(1, 'enter your name')
      .max(100, 'use at most 100 characters')
      .refine((value) => !hasUnprintable(value), 'remove the control characters'),
  );

const emailSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.string().min(1, 'enter your email').max(254, 'an email has at most 254 characters').pipe(z.email('enter a valid email, like name@example.com')));

export function readSignupForm(
  form: Record<string, unknown>,
  options: { planIds: string[]; termsRequired: boolean },
): { ok: true; request: SignupRequest } | { ok: false; errors: FieldErrors; values: Partial<SignupRequest> } {
  const errors: FieldErrors = {};
  const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
  const values = { name: text('name').slice(0, 200), email: text('email').slice(0, 300), plan: text('plan').slice(0, 100) };
  const name = nameSchema.safeParse(text('name'));
  if (!name.success) errors.name = name.error.issues[0]?.message ?? 'enter your name';
  const email = emailSchema.safeParse(text('email'));
  if (!email.success) errors.email = email.error.issues[0]?.message ?? 'enter a valid email';
  const plan = text('plan');
  if (!options.planIds.includes(plan)) errors.plan = plan ? 'pick one of the plans offered' : 'pick a plan';
  if (options.termsRequired && text('terms') !== 'accepted') errors.terms = 'accept the terms to sign up';
  if (!name.success || !email.success || Object.keys(errors).length > 0) return { ok: false, errors, values };
  return { ok: true, request: { name: name.data, email: email.data, plan } };
}
