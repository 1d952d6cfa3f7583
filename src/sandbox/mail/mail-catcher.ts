/**
 * The sandbox's SMTP catcher: a local SMTP server (smtp-server) that keeps every message in
 * memory (parsed with mailparser) and a mailbox page to read them, so the hosted signup's email
 * links can be followed without a real mail provider. Like a real relay it refuses a message
 * without a recipient or above its size limit. Never for production.
 */
import { Hono } from 'hono';
import { simpleParser } from 'mailparser';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { listen } from '../running-service.ts';

interface CaughtMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  receivedAt: number;
}

export interface RunningMailCatcher {
  /** smtp://127.0.0.1:<port> for SMTP_URL. */
  smtpUrl: string;
  /** The mailbox page (GET /), and GET /messages as JSON. */
  mailboxUrl: string;
  messages(): CaughtMail[];
  /** The newest message to this address, waiting for it up to `timeoutMs`. */
  waitFor(to: string, options?: { after?: number; timeoutMs?: number }): Promise<CaughtMail>;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

const escape = (value: string) => value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function mailboxPage(messages: CaughtMail[]): string {
  const items = [...messages]
    .reverse()
    .map((m) => {
      // Links become clickable; everything else stays text.
      const body = escape(m.text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
      return `<article><h2>${escape(m.subject)}</h2><p class="meta">To: ${escape(m.to.join(', '))} · From: ${escape(m.from)} · ${new Date(m.receivedAt).toISOString()}</p><pre>${body}</pre></article>`;
    })
    .join('\n');
  // Long links and lines wrap inside the page: no sideways scroll, on a phone too.
  const style = `body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:48rem;margin:0 auto;padding:1rem} h1{font-size:1.3rem} h2{font-size:1.05rem;margin:0 0 .25rem}
article{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:1rem;margin:1rem 0}
.meta{color:#59636e;font-size:.85rem;margin:0 0 .5rem;overflow-wrap:anywhere}
pre{font:inherit;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sandbox mailbox</title><style>${style}</style></head><body><main><h1>Sandbox mailbox</h1><p class="meta">Newest first. Reload to see new mail.</p>${items || '<p>No mail yet.</p>'}</main></body></html>`;
}

export async function startMailCatcher(options: { smtpPort?: number; httpPort?: number } = {}): Promise<RunningMailCatcher> {
  const inbox: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          if (to.length === 0) return callback(new Error('no recipient'));
          inbox.push({ id: randomUUID(), from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, subject: parsed.subject ?? '', text: parsed.text ?? '', receivedAt: Date.now() });
          for (const wake of waiters) wake();
          return callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(options.smtpPort ?? 0, '127.0.0.1', () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const app = new Hono();
  app.get('/', (c) => c.html(mailboxPage(inbox)));
  app.get('/messages', (c) => c.json({ data: inbox }));
  const http = await listen('mailbox', app.fetch, options.httpPort ?? 0);

  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    mailboxUrl: http.url,
    messages: () => [...inbox],
    waitFor(to, { after = 0, timeoutMs = 5_000 } = {}) {
      const find = () => [...inbox].reverse().find((m) => m.to.includes(to.toLowerCase()) && m.receivedAt >= after);
      return new Promise<CaughtMail>((resolve, reject) => {
        const check = () => {
          const found = find();
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await http.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}
