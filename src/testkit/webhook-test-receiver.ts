/**
 * A webhook receiver for tests: records each POST's raw body and Stripe-Signature header and
 * answers with the next scripted status (200 once the script is empty); 'hang' never answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface ReceivedWebhook {
  body: string;
  signature: string;
  eventId: string;
  eventType: string;
}

export interface TestReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Statuses (or 'hang') for the next requests, in order. */
  script: (number | 'hang')[];
  close(): Promise<void>;
}

export async function startTestReceiver(): Promise<TestReceiver> {
  const received: ReceivedWebhook[] = [];
  const script: (number | 'hang')[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(body) as { id: string; type: string };
      received.push({ body, signature: String(request.headers['stripe-signature'] ?? ''), eventId: event.id, eventType: event.type });
      const next = script.shift() ?? 200;
      if (next === 'hang') return;
      response.writeHead(next, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
