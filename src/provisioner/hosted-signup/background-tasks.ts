/**
 * Work a page answer must not wait for. The forms that take an email (POST /signup, POST
 * /signup/account) answer the same page whether or not the address has an account; if they also
 * waited for the Kong lookup and the SMTP send, the answer time would tell (issue 17.4: 109 ms with
 * an account, 3 ms without). So the lookup and the email run here, after the answer.
 *
 * Bounded: at most `limit` tasks at once (more are dropped and logged: the per-address and
 * per-email limits already hold honest users far below it), and a task holds its slot at most
 * `timeoutMs` (a hung SMTP server does not fill the slots for good). Failures are logged without
 * the email, never shown: the page already said "if this address has an account".
 */
import { redactText } from '../../shared/redact.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';

export interface BackgroundTasks {
  /** Starts `work` without waiting for it; false (and logged) when `limit` tasks already run. */
  start(what: string, work: () => Promise<unknown>): boolean;
  /** Resolves once no task holds a slot (tests, shutdown). */
  idle(): Promise<void>;
  readonly running: number;
}

interface BackgroundTasksOptions {
  logger: ProvisionLogger;
  /** Tasks at once; default 16. */
  limit?: number;
  /** Longest a task holds its slot; default 60 s (nodemailer's own timeouts are longer). */
  timeoutMs?: number;
}

/** Kong paths name consumers by username (= email), URL-encoded too. */
const withoutEmails = (text: string) => redactText(text.replace(/%40/gi, '@'));

export function createBackgroundTasks(options: BackgroundTasksOptions): BackgroundTasks {
  const limit = options.limit ?? 16;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { logger } = options;
  let running = 0;
  const waiters: Array<() => void> = [];

  const release = () => {
    running--;
    if (running === 0) for (const wake of waiters.splice(0)) wake();
  };

  function failed(what: string, error: unknown): void {
    const code = (error as { code?: unknown }).code;
    logger.error({ event: 'signup_background_failed', what, code: typeof code === 'string' ? code : 'internal_error', message: withoutEmails(String((error as Error)?.message ?? error)) });
  }

  return {
    start(what, work) {
      if (running >= limit) {
        logger.warn({ event: 'signup_background_dropped', what, reason: `${limit} background tasks already running` });
        return false;
      }
      running++;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      });
      // Started after the answer is on its way, not in the microtasks that would run before it is written.
      const task = new Promise<void>((resolve) => setImmediate(resolve))
        .then(work)
        .catch((error: unknown) => failed(what, error));
      void Promise.race([task, timeout])
        .then((first) => {
          if (first === 'timeout') logger.warn({ event: 'signup_background_slow', what, reason: `still running after ${timeoutMs} ms; its slot is freed` });
        })
        .finally(() => {
          clearTimeout(timer);
          release();
        });
      return true;
    },
    idle() {
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    get running() {
      return running;
    },
  };
}
