import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionProvenAnswer } from '../shared/provisioner-api.ts';
import type { BrowserConfig } from './config.ts';
import { provision, type ProvisionDeps } from './provision-client.ts';

const RESULT: ProvisionProvenAnswer = { status: 'active', developer_status: 'approved', plan: 'starter' };
const DEV_ID = '0b0e6f7a-8a47-4f1b-9a55-2d6f2f4f0a01';
const CONFIG: BrowserConfig = { provisionerUrl: 'https://billing.example.com', planField: false, retryDelaysMs: [100, 200, 300] };

type Answer = { status: number; body?: unknown } | 'network-error';

/** What reached the provisioner, as sent over the wire. */
interface SentRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  credentials: RequestCredentials;
  body: string;
}

// The client's own fetch goes out; msw answers at the network boundary, so the test sees the request as sent.
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** A provisioner that plays the answers in order (the last repeats), on a clock moved only by sleep(). */
function scripted(answers: Answer[]) {
  const calls: SentRequest[] = [];
  const sleeps: number[] = [];
  let clock = 0;
  server.use(
    http.post(`${CONFIG.provisionerUrl}/provision`, async ({ request }) => {
      const answer = answers[Math.min(calls.length, answers.length - 1)]!;
      calls.push({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers), credentials: request.credentials, body: await request.text() });
      if (answer === 'network-error') return HttpResponse.error();
      return answer.body === undefined ? new HttpResponse('not json', { status: answer.status }) : HttpResponse.json(answer.body, { status: answer.status });
    }),
  );
  const deps: ProvisionDeps = {
    // Looked up per call: msw puts its interceptor on the global fetch when the server listens.
    fetch: (input, init) => fetch(input, init),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
  };
  return { deps, calls, sleeps };
}

describe('provision', () => {
  it('posts the email and the proof (Kong\'s developer id) as JSON and returns the proven answer', async () => {
    const { deps, calls } = scripted([{ status: 200, body: { ...RESULT, moesif: 'synced' } }]);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, deps)).toEqual({ status: 'active', result: RESULT });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('https://billing.example.com/provision');
    expect(calls[0]).toMatchObject({ method: 'POST', credentials: 'omit', body: JSON.stringify({ email: 'ada@example.com', developer_id: DEV_ID }) });
    // A string body goes as text/plain (a CORS simple request: no preflight), and no cookie or token goes with it.
    expect(calls[0]!.headers).toEqual({ accept: 'application/json', 'content-type': 'text/plain;charset=UTF-8' });
  });

  it('keeps a checkout_url when the answer has one, and ignores fields it does not know', async () => {
    const { deps } = scripted([{ status: 200, body: { ...RESULT, checkout_url: 'https://checkout.stripe.com/c/pay/cs_1', later_field: 1 } }]);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, deps)).toEqual({ status: 'active', result: { ...RESULT, checkout_url: 'https://checkout.stripe.com/c/pay/cs_1' } });
    const { deps: odd } = scripted([{ status: 200, body: { ...RESULT, checkout_url: 'javascript:alert(1)' } }]);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, odd)).toEqual({ status: 'active', result: RESULT });
  });

  it('keeps the billing part with its text, and drops links that are not http(s)', async () => {
    const billing = {
      plan: 'growth',
      plan_name: 'Growth',
      access: 'refused',
      reason: 'payment_method_required',
      message: 'Add a payment method to start calling the API.',
      checkout_url: 'http://127.0.0.1:1/_hosted/checkout/cs_1',
      manage_url: 'javascript:alert(1)',
      confirm_url: 'http://127.0.0.1:1/_hosted/invoice/in_1',
      stripe_id: 'cus_never_shown',
    };
    const { deps } = scripted([{ status: 200, body: { ...RESULT, billing } }]);
    const outcome = await provision(CONFIG, 'ada@example.com', DEV_ID, deps);
    expect(outcome).toEqual({
      status: 'active',
      result: {
        ...RESULT,
        billing: {
          plan: 'growth',
          plan_name: 'Growth',
          access: 'refused',
          reason: 'payment_method_required',
          message: 'Add a payment method to start calling the API.',
          checkout_url: 'http://127.0.0.1:1/_hosted/checkout/cs_1',
          confirm_url: 'http://127.0.0.1:1/_hosted/invoice/in_1',
        },
      },
    });
  });

  it('ignores a billing part with an unknown access value or no message', async () => {
    for (const billing of [{ access: 'maybe', message: 'x' }, { access: 'allowed' }, 'allowed']) {
      const { deps } = scripted([{ status: 200, body: { ...RESULT, billing } }]);
      expect(await provision(CONFIG, 'ada@example.com', DEV_ID, deps)).toEqual({ status: 'active', result: RESULT });
    }
  });

  it('ends pending, without retrying, on 202 accepted and on awaiting_approval', async () => {
    const accepted = scripted([{ status: 202, body: { status: 'accepted' } }]);
    expect(await provision(CONFIG, 'ada@example.com', undefined, accepted.deps)).toEqual({ status: 'pending', reason: 'accepted' });
    expect(accepted.calls).toHaveLength(1);
    expect(accepted.calls[0]!.body).toBe(JSON.stringify({ email: 'ada@example.com' }));
    const waiting = scripted([{ status: 200, body: { status: 'awaiting_approval', developer_status: 'pending' } }]);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, waiting.deps)).toEqual({ status: 'pending', reason: 'pending' });
    expect(waiting.calls).toHaveLength(1);
  });

  it('retries 5xx, 429 and network errors on the schedule', async () => {
    const { deps, calls, sleeps } = scripted([{ status: 500 }, { status: 429 }, 'network-error', { status: 200, body: RESULT }]);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, deps)).toMatchObject({ status: 'active' });
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 300]);
  });

  it('ends pending after the schedule when the provisioner stays down', async () => {
    const { deps, calls } = scripted(['network-error']);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, deps)).toMatchObject({ status: 'pending' });
    expect(calls).toHaveLength(4);
  });

  it('treats a 200 that is not a provisioner answer as retryable garbage', async () => {
    const { deps, calls } = scripted([{ status: 200, body: { hello: 'proxy page' } }, { status: 200, body: RESULT }]);
    expect(await provision(CONFIG, 'ada@example.com', DEV_ID, deps)).toMatchObject({ status: 'active' });
    expect(calls).toHaveLength(2);
  });

  it('does not retry a 4xx and keeps its code and message', async () => {
    const { deps, calls } = scripted([{ status: 422, body: { error: { code: 'invalid_email', message: 'email is not valid' } } }]);
    expect(await provision(CONFIG, 'x', DEV_ID, deps)).toEqual({ status: 'failed', code: 'invalid_email', message: 'email is not valid' });
    expect(calls).toHaveLength(1);
  });

  it('falls back to the HTTP status when a 4xx has no error body', async () => {
    const { deps } = scripted([{ status: 403 }]);
    expect(await provision(CONFIG, 'x', DEV_ID, deps)).toEqual({ status: 'failed', code: 'http_403', message: 'HTTP 403' });
  });
});
