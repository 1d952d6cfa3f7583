/**
 * The emails of the hosted signup, sent over SMTP with nodemailer (SMTP_URL). The message texts
 * live here; the transport is a port so tests can capture messages without a server.
 */
import type { Transporter } from 'nodemailer';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export interface SignupMailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * nodemailer is loaded on the first send: the provisioner core (and so reconcile and the usage
 * command) holds an alert mailer without loading SMTP code it may never use.
 */
export function createSmtpMailer(smtpUrl: string, from: string): SignupMailer {
  let transport: Promise<Transporter> | undefined;
  let closed = false;
  const open = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpUrl)));
  return {
    async send(mail) {
      await (await open()).sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => {
      if (closed) return;
      closed = true;
      void transport?.then((opened) => opened.close());
    },
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
