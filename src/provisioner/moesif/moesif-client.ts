/**
 * Moesif Collector API: create-or-update a company and a user (POST /v1/companies, /v1/users with
 * X-Moesif-Application-Id), or many at once (the /batch routes take arrays). Retries 429, 5xx and network errors with backoff; a 401 means the
 * application id is wrong and is not retried.
 */
import { MonetizationError } from '../../shared/errors.ts';

/** Which Stripe id is the Moesif company id (MOESIF_COMPANY_ID_SOURCE): the subscription's (default) or the customer's. */
export type MoesifCompanyIdSource = 'subscription' | 'customer';

export interface MoesifCompany {
  company_id: string;
  metadata: Record<string, unknown>;
}

export interface MoesifUser {
  user_id: string;
  company_id: string;
  metadata: Record<string, unknown>;
}

interface MoesifClientOptions {
  apiBase: string;
  applicationId: string;
  /** Attempts per call; default 3. */
  attempts?: number;
  /** First backoff, doubled per attempt; default 200 ms. */
  baseDelayMs?: number;
  /** Per-attempt timeout; default 5 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

class MoesifError extends MonetizationError {
  readonly status: number | undefined;
  readonly retriable: boolean;

  constructor(message: string, details: { status?: number; retriable: boolean; cause?: unknown }) {
    const status = details.status ?? 0;
    const redirected = status >= 300 && status < 400;
    super(
      status === 401 ? 'moesif_unauthorized' : redirected ? 'moesif_redirect' : 'moesif_unavailable',
      message,
      status === 401
        ? { hint: 'check MOESIF_APPLICATION_ID (Moesif > Settings > API Keys > Collector Application Id)', cause: details.cause }
        : redirected
          ? { hint: 'set MOESIF_API_BASE to the address the Collector API answers at directly (e.g. https://api.moesif.net)', cause: details.cause }
          : { cause: details.cause },
    );
    this.status = details.status;
    this.retriable = details.retriable;
  }
}

export interface MoesifClient {
  upsertCompany(company: MoesifCompany): Promise<void>;
  upsertUser(user: MoesifUser): Promise<void>;
  /** POST /v1/companies/batch (an array); optional so stand-ins without it fall back on single calls. */
  upsertCompanies?(companies: MoesifCompany[]): Promise<void>;
  /** POST /v1/users/batch (an array). */
  upsertUsers?(users: MoesifUser[]): Promise<void>;
  /**
   * Reachability and application id check (/readyz, doctor): an empty company batch, which the
   * Collector authenticates like any write (401 for an unknown id) but which writes nothing.
   * Resolves with the HTTP status.
   */
  check(timeoutMs: number): Promise<number>;
}

export function createMoesifClient(options: MoesifClientOptions): MoesifClient {
  const base = options.apiBase.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const attempts = options.attempts ?? 3;
  const baseDelay = options.baseDelayMs ?? 200;

  const send = async (method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<Response> => {
    try {
      return await doFetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-moesif-application-id': options.applicationId },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        // Never follow: the application id header would go to wherever Location points.
        redirect: 'manual',
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? 'timed out' : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
      throw new MoesifError(`cannot reach Moesif at ${base} (${reason})`, { retriable: true, cause: error });
    }
  };

  const refuseRedirect = (response: Response, path: string): void => {
    if (response.status >= 300 && response.status < 400)
      throw new MoesifError(`Moesif at ${base} redirects (${response.status} on POST ${path}); redirects are not followed, so the application id goes nowhere else`, { status: response.status, retriable: false });
  };

  const post = async (path: string, body: unknown): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      let failure: MoesifError;
      try {
        const response = await send('POST', path, body, options.timeoutMs ?? 5_000);
        await response.arrayBuffer();
        if (response.ok) return;
        refuseRedirect(response, path);
        const retriable = response.status === 429 || response.status >= 500;
        failure = new MoesifError(`Moesif answered ${response.status} to POST ${path}`, { status: response.status, retriable });
      } catch (error) {
        failure = error as MoesifError;
      }
      if (!failure.retriable || attempt >= attempts) throw failure;
      await new Promise((resolve) => setTimeout(resolve, baseDelay * 2 ** (attempt - 1)));
    }
  };

  return {
    upsertCompany: (company) => post('/v1/companies', company),
    upsertUser: (user) => post('/v1/users', user),
    upsertCompanies: async (companies) => (companies.length ? post('/v1/companies/batch', companies) : undefined),
    upsertUsers: async (users) => (users.length ? post('/v1/users/batch', users) : undefined),
    async check(timeoutMs) {
      const response = await send('POST', '/v1/companies/batch', [], timeoutMs);
      await response.arrayBuffer();
      refuseRedirect(response, '/v1/companies/batch');
      if (response.status === 401 || response.status === 403)
        throw new MoesifError(`Moesif at ${base} rejected MOESIF_APPLICATION_ID (${response.status})`, { status: 401, retriable: false });
      if (!response.ok)
        throw new MoesifError(`Moesif at ${base} answered ${response.status} to an empty company batch`, { status: response.status, retriable: response.status === 429 || response.status >= 500 });
      return response.status;
    },
  };
}
