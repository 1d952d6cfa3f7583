/**
 * Moesif never fails a signup: sync() tries the company then the user now; if Moesif still fails
 * after the client's retries, the record goes to a bounded in-memory queue retried in the
 * background with exponential backoff (one entry per developer, newest record wins). A restart
 * loses the queue; `reconcile` finishes whatever is left. Records already sent by this process
 * are remembered (bounded), so repeated provision calls do not resend identical data.
 */
import { canonicalJson, sha256Hex } from './idempotency.ts';
import type { MoesifClient, MoesifCompany, MoesifUser } from './moesif-client.ts';
import type { ProvisionLogger } from './provision-log.ts';

export interface MoesifRecord {
  developerId: string;
  company: MoesifCompany;
  user: MoesifUser;
}

export interface MoesifSyncOptions {
  /** Most developers waiting for a retry; the oldest is dropped beyond it. Default 1000. */
  maxQueue?: number;
  /** First background retry delay, doubled per failure up to retryMaxMs. Default 1 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Records remembered as sent. Default 10,000. */
  rememberSent?: number;
  logger?: ProvisionLogger;
}

export interface MoesifSync {
  sync(record: MoesifRecord): Promise<'synced' | 'pending'>;
  isPending(developerId: string): boolean;
  readonly pendingCount: number;
  /** Retry every queued record now (used on drain). */
  flush(): Promise<void>;
  /** Stops the background timer; queued records are dropped (reconcile picks them up). */
  close(): void;
}

interface QueueEntry {
  record: MoesifRecord;
  failures: number;
  nextAt: number;
}

export function createMoesifSync(client: MoesifClient, options: MoesifSyncOptions = {}): MoesifSync {
  const maxQueue = options.maxQueue ?? 1000;
  const retryBase = options.retryBaseMs ?? 1000;
  const retryMax = options.retryMaxMs ?? 60_000;
  const rememberSent = options.rememberSent ?? 10_000;
  const queue = new Map<string, QueueEntry>();
  const sent = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running = false;

  const digest = (record: MoesifRecord) => sha256Hex(canonicalJson([record.company, record.user]));

  const send = async (record: MoesifRecord) => {
    await client.upsertCompany(record.company);
    await client.upsertUser(record.user);
    sent.delete(record.developerId);
    sent.set(record.developerId, digest(record));
    if (sent.size > rememberSent) sent.delete(sent.keys().next().value as string);
  };

  const schedule = () => {
    if (closed || running) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.size === 0) return;
    const next = Math.min(...[...queue.values()].map((entry) => entry.nextAt));
    timer = setTimeout(() => void runDue(), Math.max(0, next - Date.now()));
    timer.unref();
  };

  const enqueue = (record: MoesifRecord, failures: number, error: unknown) => {
    queue.delete(record.developerId);
    if (queue.size >= maxQueue) {
      const oldest = queue.keys().next().value as string;
      queue.delete(oldest);
      options.logger?.warn({ event: 'moesif_queue_overflow', developer_id: oldest, message: 'dropped from the Moesif retry queue; run reconcile' });
    }
    queue.set(record.developerId, { record, failures, nextAt: Date.now() + Math.min(retryMax, retryBase * 2 ** (failures - 1)) });
    options.logger?.warn({
      event: 'moesif_pending',
      developer_id: record.developerId,
      failures,
      error: (error as { code?: string }).code ?? 'moesif_unavailable',
      message: (error as Error).message,
    });
    schedule();
  };

  const attempt = async (entry: QueueEntry) => {
    try {
      await send(entry.record);
      if (queue.get(entry.record.developerId) === entry) queue.delete(entry.record.developerId);
      options.logger?.info({ event: 'moesif_synced', developer_id: entry.record.developerId, after_failures: entry.failures });
    } catch (error) {
      if (queue.get(entry.record.developerId) === entry) enqueue(entry.record, entry.failures + 1, error);
    }
  };

  const runDue = async (all = false) => {
    timer = undefined;
    if (closed) return;
    running = true;
    try {
      const due = [...queue.values()].filter((entry) => all || entry.nextAt <= Date.now());
      for (const entry of due) await attempt(entry);
    } finally {
      running = false;
      schedule();
    }
  };

  return {
    async sync(record) {
      if (!queue.has(record.developerId) && sent.get(record.developerId) === digest(record)) return 'synced';
      try {
        await send(record);
        queue.delete(record.developerId);
        return 'synced';
      } catch (error) {
        enqueue(record, (queue.get(record.developerId)?.failures ?? 0) + 1, error);
        return 'pending';
      }
    },
    isPending: (developerId) => queue.has(developerId),
    get pendingCount() {
      return queue.size;
    },
    flush: () => runDue(true),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
