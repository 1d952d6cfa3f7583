/**
 * The emails of the hosted signup, sent over SMTP with nodemailer (SMTP_URL). The message texts
 * live here; the transport is a port so tests can capture messages without a server.
 */
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export interface SignupMailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createSmtpMailer(smtpUrl: string, from: string): SignupMailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transport.close(),
  };
}

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
