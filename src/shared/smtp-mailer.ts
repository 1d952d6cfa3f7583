/**
 * Email over SMTP with nodemailer (SMTP_URL): the hosted signup's links and the usage alerts. The
 * transport is a port so tests can capture messages without a server.
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
