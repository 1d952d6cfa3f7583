/**
 * The emails of the hosted signup: their texts. They go out through the SMTP mailer
 * (shared/smtp-mailer.ts, SMTP_URL), which the usage alerts use too.
 */
import type { OutgoingMail } from '../../shared/smtp-mailer.ts';

export function verificationMail(productName: string, to: string, link: string, ttlMinutes: number): OutgoingMail {
  return {
    to,
    subject: `Confirm your ${productName} signup`,
    text: [
      `Hello,`,
      ``,
      `Open this link to confirm your email and get your API key for ${productName}:`,
      ``,
      link,
      ``,
      `The link works once and for ${ttlMinutes} minutes. If you did not sign up, ignore this email: nothing was created.`,
    ].join('\n'),
  };
}

/** A second signup with an address that already has a key: nothing new, and what to do instead. */
export function alreadySignedUpMail(productName: string, to: string, accountUrl: string): OutgoingMail {
  return {
    to,
    subject: `You already have ${productName} access`,
    text: [
      `Hello,`,
      ``,
      `Someone (probably you) asked to sign up for ${productName} with this address, which already has an API key.`,
      `Nothing new was created. Keep using the key you were shown at signup. To replace a lost key or manage your billing, open:`,
      ``,
      accountUrl,
    ].join('\n'),
  };
}
