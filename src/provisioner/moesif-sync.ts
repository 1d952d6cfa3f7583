/**
 * Moesif never fails a signup and barely delays one: sync() sends the company and the user at
 * once (the Collector merges, order does not matter) and waits for them at most `waitMs`; past
 * that it answers 'pending' and the delivery goes on in the background. A delivery that fails
 * after the client's retries goes to a bounded in-memory queue retried with exponential backoff
 * (one entry per developer, newest record wins). A restart loses what is queued or in flight;
 * `reconcile` finishes it. Records delivered by this process are remembered (bounded), so a
 * repeated provision answers 'synced' at once without resending identical data.
 */
import { canonicalJson, sha256Hex } from './idempotency.ts';
import type { MoesifClient, MoesifCompany, MoesifUser } from './moesif-client.ts';
import type { ProvisionLogger } from './provision-log.ts';

export interface MoesifRecord {
  developerId: string;
  company: MoesifCompany;
  user: MoesifUser;
}

/** Default of MoesifSyncOptions.waitMs; see there. */
export const DEFAULT_MOESIF_WAIT_MS = 20;

export interface MoesifSyncOptions {
  /** Most developers waiting for a retry; the oldest is dropped beyond it. Default 1000. */
  maxQueue?: number;
  /** First background retry delay, doubled per failure up to retryMaxMs. Default 1 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Records remembered as sent. Default 10,000. */
  rememberSent?: number;
  /**
   * Longest wait in sync() for Moesif to accept the record before answering 'pending' (delivery
   * continues in the background). Default 20 ms: a Collector on the same network (a few ms)
   * still answers 'synced', a distant or slow one never holds a signup. Infinity waits for
   * the delivery (and its client retries) to finish.
   */
  waitMs?: number;
  logger?: ProvisionLogger;
}

export interface MoesifSync {
  sync(record: MoesifRecord): Promise<'synced' | 'pending'>;
  /** Queued for retry, or still being delivered. */
  isPending(developerId: string): boolean;
  readonly pendingCount: number;
  /** Waits for deliveries in flight, then retries every queued record now (used on drain). */
  flush(): Promise<void>;
  /** Stops the background timer; queued records are dropped (reconcile picks them up). */
  close(): void;
}

interface QueueEntry {
  record: MoesifRecord;
  /** Order of the sync() call that produced the record, so an older one never replaces a newer one. */
  seq: number;
  failures: number;
  nextAt: number;
}

interface Delivery {
  digest: string;
  seq: number;
  /** Resolves true once Moesif holds the record, false when it went to the retry queue. Never rejects. */
  done: Promise<boolean>;
}

export function createMoesifSync(client: MoesifClient, options: MoesifSyncOptions = {}): MoesifSync {
  const maxQueue = options.maxQueue ?? 1000;
  const retryBase = options.retryBaseMs ?? 1000;
  const retryMax = options.retryMaxMs ?? 60_000;
  const rememberSent = options.rememberSent ?? 10_000;
  const waitMs = options.waitMs ?? DEFAULT_MOESIF_WAIT_MS;
  const queue = new Map<string, QueueEntry>();
  const inFlight = new Map<string, Delivery>();
  const sent = new Map<string, string>();
  let seqCounter = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running = false;

  const digest = (record: MoesifRecord) => sha256Hex(canonicalJson([record.company, record.user]));

  const send = async (record: MoesifRecord) => {
    await Promise.all([client.upsertCompany(record.company), client.upsertUser(record.user)]);
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

  const enqueue = (record: MoesifRecord, seq: number, failures: number, error: unknown) => {
    const queued = queue.get(record.developerId);
    if (queued && queued.seq > seq) return;
    queue.delete(record.developerId);
    if (queue.size >= maxQueue) {
      const oldest = queue.keys().next().value as string;
      queue.delete(oldest);
      options.logger?.warn({ event: 'moesif_queue_overflow', developer_id: oldest, message: 'dropped from the Moesif retry queue; run reconcile' });
    }
    queue.set(record.developerId, { record, seq, failures, nextAt: Date.now() + Math.min(retryMax, retryBase * 2 ** (failures - 1)) });
    options.logger?.warn({
      event: 'moesif_pending',
      developer_id: record.developerId,
      failures,
      error: (error as { code?: string }).code ?? 'moesif_unavailable',
      message: (error as Error).message,
    });
    schedule();
  };

  /** Starts sending a record now; the newest delivery per developer decides what is queued. */
  const deliver = (record: MoesifRecord): Delivery => {
    const id = record.developerId;
    const delivery: Delivery = { digest: digest(record), seq: ++seqCounter, done: Promise.resolve(false) };
    inFlight.set(id, delivery);
    delivery.done = (async () => {
      try {
        await send(record);
        const queued = queue.get(id);
        if (queued && queued.seq <= delivery.seq) queue.delete(id);
        return true;
      } catch (error) {
        const newer = inFlight.get(id) !== delivery;
        if (!newer) enqueue(record, delivery.seq, (queue.get(id)?.failures ?? 0) + 1, error);
        return false;
      } finally {
        if (inFlight.get(id) === delivery) inFlight.delete(id);
      }
    })();
    return delivery;
  };

  /** The delivery's outcome if it settles within waitMs, else false (it goes on regardless). */
  const settledWithin = async (done: Promise<boolean>): Promise<boolean> => {
    if (!Number.isFinite(waitMs)) return done;
    let wait: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      wait = setTimeout(resolve, Math.max(0, waitMs), false);
    });
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(wait);
    }
  };

  const attempt = async (entry: QueueEntry) => {
    try {
      await send(entry.record);
      if (queue.get(entry.record.developerId) === entry) queue.delete(entry.record.developerId);
      options.logger?.info({ event: 'moesif_synced', developer_id: entry.record.developerId, after_failures: entry.failures });
    } catch (error) {
      if (queue.get(entry.record.developerId) === entry) enqueue(entry.record, entry.seq, entry.failures + 1, error);
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

  const pendingIds = () => new Set([...queue.keys(), ...inFlight.keys()]);

  return {
    async sync(record) {
      const id = record.developerId;
      const recordDigest = digest(record);
      if (!queue.has(id) && !inFlight.has(id) && sent.get(id) === recordDigest) return 'synced';
      const current = inFlight.get(id);
      const delivery = current?.digest === recordDigest ? current : deliver(record);
      return (await settledWithin(delivery.done)) ? 'synced' : 'pending';
    },
    isPending: (developerId) => queue.has(developerId) || inFlight.has(developerId),
    get pendingCount() {
      return pendingIds().size;
    },
    async flush() {
      await Promise.all([...inFlight.values()].map((delivery) => delivery.done));
      await runDue(true);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
