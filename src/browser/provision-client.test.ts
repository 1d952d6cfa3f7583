import { describe, expect, it } from 'vitest';
import type { ProvisionResult } from '../shared/provisioner-api.ts';
import type { BrowserConfig } from './config.ts';
import { provision, type ProvisionDeps } from './provision-client.ts';

const RESULT: ProvisionResult = { developerId: 'd1', customerId: 'cus_1', subscriptionId: 'sub_1', plan: 'starter', moesif: 'synced' };
const CONFIG: BrowserConfig = { provisionerUrl: 'https://billing.example.com', planField: false, retryDelaysMs: [100, 200, 300] };

type Answer = { status: number; body?: unknown } | 'network-error';

/** A fetch that plays the answers in order (the last repeats) on a clock moved only by sleep(). */
function scripted(answers: Answer[]) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const sleeps: number[] = [];
  let clock = 0;
  const deps: ProvisionDeps = {
    fetch: async (input, init) => {
      const answer = answers[Math.min(calls.length, answers.length - 1)]!;
      calls.push({ url: String(input), init });
      if (answer === 'network-error') throw new TypeError('Failed to fetch');
      return new Response(answer.body === undefined ? 'not json' : JSON.stringify(answer.body), { status: answer.status });
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
  };
  return { deps, calls, sleeps };
}

describe('provision', () => {
  it('posts only the email as JSON and returns the result', async () => {
    const { deps, calls } = scripted([{ status: 200, body: RESULT }]);
    expect(await provision(CONFIG, 'ada@example.com', deps)).toEqual({ status: 'active', result: RESULT });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('https://billing.example.com/provision');
    expect(calls[0]!.init).toMatchObject({ method: 'POST', credentials: 'omit', body: JSON.stringify({ email: 'ada@example.com' }) });
  });

  it('retries 5xx, 429 and network errors on the schedule', async () => {
    const { deps, calls, sleeps } = scripted([{ status: 500 }, { status: 429 }, 'network-error', { status: 200, body: RESULT }]);
    expect(await provision(CONFIG, 'ada@example.com', deps)).toMatchObject({ status: 'active' });
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 300]);
  });

  it('ends pending after the schedule when the provisioner stays down', async () => {
    const { deps, calls } = scripted(['network-error']);
    expect(await provision(CONFIG, 'ada@example.com', deps)).toMatchObject({ status: 'pending' });
    expect(calls).toHaveLength(4);
  });

  it('treats a 200 without a subscription as retryable garbage', async () => {
    const { deps, calls } = scripted([{ status: 200, body: { hello: 'proxy page' } }, { status: 200, body: RESULT }]);
    expect(await provision(CONFIG, 'ada@example.com', deps)).toMatchObject({ status: 'active' });
    expect(calls).toHaveLength(2);
  });

  it('does not retry a 4xx and keeps its code and message', async () => {
    const { deps, calls } = scripted([{ status: 422, body: { error: { code: 'invalid_email', message: 'email is not valid' } } }]);
    expect(await provision(CONFIG, 'x', deps)).toEqual({ status: 'failed', code: 'invalid_email', message: 'email is not valid' });
    expect(calls).toHaveLength(1);
  });

  it('falls back to the HTTP status when a 4xx has no error body', async () => {
    const { deps } = scripted([{ status: 403 }]);
    expect(await provision(CONFIG, 'x', deps)).toEqual({ status: 'failed', code: 'http_403', message: 'HTTP 403' });
  });
});
