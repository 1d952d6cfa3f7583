/**
 * Moesif never fails a signup and barely delays one: sync() sends the company and the user at
 * once (the Collector merges, order does not matter) and waits for them at most `waitMs`; past
 * that it answers 'pending' and the delivery goes on in the background. A delivery that fails
 * after the client's retries goes to a bounded in-memory queue retried with exponential backoff
 * (one entry per developer and Moesif user, newest record of that user wins: on AWS a replacement
 * key is a second user of the same developer, and its record must not drop the old key's, whose
 * calls would otherwise belong to no company). A restart loses what is queued or in flight;
 * `reconcile` finishes it. Records delivered by this process are remembered (bounded), so a
 * repeated provision answers 'synced' at once without resending identical data.
 * Records waiting to go out together travel as one batch (POST /v1/companies/batch and
 * /v1/users/batch, at most `batchMax` each): a lone record uses the single routes, and reconcile
 * sets `batchLingerMs` so its thousands of records go out a few hundred per pair of calls.
 */
import { sha256Hex } from '../../shared/sha256.ts';
import { canonicalJson } from '../stripe/idempotency.ts';
import type { MoesifClient, MoesifCompany, MoesifUser } from './moesif-client.ts';
import type { ProvisionLogger } from '../../shared/provision-log.ts';

export interface MoesifRecord {
  developerId: string;
  company: MoesifCompany;
  user: MoesifUser;
}

/** Default of MoesifSyncOptions.waitMs; see there. */
const DEFAULT_MOESIF_WAIT_MS = 0;

export interface MoesifSyncOptions {
  /** Most records (developer and Moesif user) waiting for a retry; the oldest is dropped beyond it. Default 1000. */
  maxQueue?: number;
  /** First background retry delay, doubled per failure up to retryMaxMs. Default 1 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Records remembered as sent. Default 10,000. */
  rememberSent?: number;
  /**
   * Longest wait in sync() for Moesif to accept the record before answering 'pending' (delivery
   * continues in the background); sync() can override it per call. Infinity waits for the
   * delivery and its client retries. Default 0: nothing reads 'synced' on the signup path (the
   * page only needs the 200), and the Collector is a remote service whose round trip (tens of
   * ms, more with a new TLS connection) would come straight on top of the signup; a record this
   * process already delivered still answers 'synced' at once.
   */
  waitMs?: number;
  /** Most records in one batch call; default 200 (two calls per 200 developers). */
  batchMax?: number;
  /**
   * How long a background delivery waits for others to share its batch; default 0 (only the
   * records of the same I/O turn share one). Reconcile sets it, the signup path leaves it at 0.
   */
  batchLingerMs?: number;
  logger?: ProvisionLogger;
}

export interface MoesifSync {
  /** 'synced' once Moesif holds the record, 'pending' when it is still being (re)tried. */
  sync(record: MoesifRecord, options?: { waitMs?: number }): Promise<'synced' | 'pending'>;
  /** Some record of the developer (any of its Moesif users) is queued for retry, or still being delivered. */
  isPending(developerId: string): boolean;
  /** Developers with a pending record. */
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

interface Outgoing {
  record: MoesifRecord;
  seq: number;
  /** Called once the record's batch is answered: no argument on success, the error otherwise. */
  settle: (error?: unknown) => void;
}

interface Delivery {
  developerId: string;
  digest: string;
  seq: number;
  /** Resolves true once Moesif holds the record, false when it went to the retry queue. Never rejects. */
  done: Promise<boolean>;
}

type Sent = ReadonlyArray<{ record: MoesifRecord; seq: number }>;

const digestOf = (record: MoesifRecord) => sha256Hex(canonicalJson([record.company, record.user]));

/**
 * What a record supersedes: the developer's earlier record for the same Moesif user. Another user
 * of the developer (an AWS replacement key next to the old one, a Kong user renamed by an email
 * change) is another key, delivered on its own.
 */
const keyOf = (record: MoesifRecord) => JSON.stringify([record.developerId, record.user.user_id]);

/** What Moesif holds, per developer and user (bounded, oldest forgotten first). */
function createSentLog(limit: number) {
  const sent = new Map<string, { digest: string; seq: number }>();
  return {
    /** Remembers what Moesif holds; an older record answered late does not replace a newer one. */
    remember(record: MoesifRecord, seq: number) {
      const key = keyOf(record);
      const known = sent.get(key);
      if (known && known.seq > seq) return;
      sent.delete(key);
      sent.set(key, { digest: digestOf(record), seq });
      if (sent.size > limit) sent.delete(sent.keys().next().value as string);
    },
    digestOf: (record: MoesifRecord) => sent.get(keyOf(record))?.digest,
  };
}

/** One record: the single routes; several: one company batch and one user batch (company and user at once). */
async function sendRecords(client: MoesifClient, items: Sent): Promise<void> {
  const [only] = items;
  if (items.length === 1 && only) await Promise.all([client.upsertCompany(only.record.company), client.upsertUser(only.record.user)]);
  else if (client.upsertCompanies && client.upsertUsers)
    await Promise.all([client.upsertCompanies(items.map((item) => item.record.company)), client.upsertUsers(items.map((item) => item.record.user))]);
  else await Promise.all(items.flatMap((item) => [client.upsertCompany(item.record.company), client.upsertUser(item.record.user)]));
}

/** Records waiting to share a batch call: `push` them, `sendAll` sends everything waiting. */
function createOutbox(sendMany: (items: Sent) => Promise<void>, batchMax: number, lingerMs: number) {
  let outbox: Outgoing[] = [];
  let outboxTimer: { cancel: () => void } | undefined;

  /** Sends everything waiting in the outbox, `batchMax` records a batch. */
  const sendAll = () => {
    outboxTimer?.cancel();
    outboxTimer = undefined;
    while (outbox.length) {
      const batch = outbox.slice(0, batchMax);
      outbox = outbox.slice(batchMax);
      // Each record's delivery (deliver) awaits its settle; flush() awaits those deliveries.
      void sendMany(batch).then(
        () => batch.forEach((item) => item.settle()),
        (error: unknown) => batch.forEach((item) => item.settle(error ?? new Error('Moesif batch failed'))),
      );
    }
  };

  /** A full batch, or one a caller waits for, goes now; otherwise after the linger (or the current I/O turn). */
  const schedule = (later: boolean) => {
    if (outbox.length >= batchMax || !later) return sendAll();
    if (outboxTimer) return;
    if (lingerMs > 0) {
      const handle = setTimeout(sendAll, lingerMs);
      handle.unref();
      outboxTimer = { cancel: () => clearTimeout(handle) };
    } else {
      const handle = setImmediate(sendAll);
      outboxTimer = { cancel: () => clearImmediate(handle) };
    }
  };

  return {
    push(item: Outgoing, later: boolean) {
      outbox.push(item);
      schedule(later);
    },
    sendAll,
  };
}

interface RetryQueueOptions {
  maxQueue: number;
  retryBase: number;
  retryMax: number;
  batchMax: number;
  logger: ProvisionLogger | undefined;
}

/** Failed deliveries, one entry per developer and Moesif user (keyOf), retried with exponential backoff by a background timer. */
function createRetryQueue(sendMany: (items: Sent) => Promise<void>, options: RetryQueueOptions) {
  const queue = new Map<string, QueueEntry>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running = false;

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
    const key = keyOf(record);
    const queued = queue.get(key);
    if (queued && queued.seq > seq) return;
    queue.delete(key);
    if (queue.size >= options.maxQueue) {
      const [oldestKey, oldest] = queue.entries().next().value as [string, QueueEntry];
      queue.delete(oldestKey);
      options.logger?.warn({ event: 'moesif_queue_overflow', developer_id: oldest.record.developerId, message: 'dropped from the Moesif retry queue; run reconcile' });
    }
    queue.set(key, { record, seq, failures, nextAt: Date.now() + Math.min(options.retryMax, options.retryBase * 2 ** (failures - 1)) });
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
      await sendMany([entry]);
      if (queue.get(keyOf(entry.record)) === entry) queue.delete(keyOf(entry.record));
      options.logger?.info({ event: 'moesif_synced', developer_id: entry.record.developerId, after_failures: entry.failures });
    } catch (error) {
      if (queue.get(keyOf(entry.record)) === entry) enqueue(entry.record, entry.seq, entry.failures + 1, error);
    }
  };

  /** Due entries go out in batches; a failed batch puts each of its entries back with one more failure. */
  const attemptBatch = async (entries: QueueEntry[]) => {
    if (entries.length === 1 && entries[0]) return attempt(entries[0]);
    try {
      await sendMany(entries);
      for (const entry of entries) if (queue.get(keyOf(entry.record)) === entry) queue.delete(keyOf(entry.record));
      options.logger?.info({ event: 'moesif_synced', developers: entries.length, after_failures: Math.max(...entries.map((e) => e.failures)) });
    } catch (error) {
      for (const entry of entries) if (queue.get(keyOf(entry.record)) === entry) enqueue(entry.record, entry.seq, entry.failures + 1, error);
    }
  };

  const runDue = async (all = false) => {
    timer = undefined;
    if (closed) return;
    running = true;
    try {
      const due = [...queue.values()].filter((entry) => all || entry.nextAt <= Date.now());
      for (let i = 0; i < due.length; i += options.batchMax) await attemptBatch(due.slice(i, i + options.batchMax));
    } finally {
      running = false;
      schedule();
    }
  };

  const close = () => {
    closed = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  return { entries: queue as ReadonlyMap<string, QueueEntry>, remove: (key: string) => queue.delete(key), enqueue, runDue, close };
}

/**
 * A newer record's company replaces the one an older queued record of the developer's other
 * users would resend, so a late retry does not put older company metadata back in Moesif.
 */
function adoptNewerCompany(queued: Iterable<QueueEntry>, record: MoesifRecord, seq: number): void {
  for (const entry of queued)
    if (entry.record.developerId === record.developerId && entry.seq < seq && entry.record.company.company_id === record.company.company_id)
      entry.record = { ...entry.record, company: record.company };
}

/** Developers with a record queued or in flight (any of their Moesif users). */
function pendingDevelopers(queue: ReadonlyMap<string, QueueEntry>, inFlight: ReadonlyMap<string, Delivery>): Set<string> {
  const developers = new Set<string>();
  for (const entry of queue.values()) developers.add(entry.record.developerId);
  for (const delivery of inFlight.values()) developers.add(delivery.developerId);
  return developers;
}

/** The delivery's outcome if it settles within waitMs, else false (it goes on regardless). */
async function settledWithin(done: Promise<boolean>, waitMs: number): Promise<boolean> {
  if (!Number.isFinite(waitMs)) return done;
  if (waitMs <= 0) return false;
  let wait: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    wait = setTimeout(resolve, waitMs, false);
  });
  try {
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(wait);
  }
}

export function createMoesifSync(client: MoesifClient, options: MoesifSyncOptions = {}): MoesifSync {
  const defaultWaitMs = options.waitMs ?? DEFAULT_MOESIF_WAIT_MS;
  const batchMax = Math.max(1, options.batchMax ?? 200);
  const sent = createSentLog(options.rememberSent ?? 10_000);
  const sendMany = async (items: Sent) => {
    // What goes out now is what Moesif will hold (a queued entry's company may be replaced meanwhile).
    const sending = items.map((item) => ({ record: item.record, seq: item.seq }));
    await sendRecords(client, sending);
    for (const item of sending) sent.remember(item.record, item.seq);
  };
  const outbox = createOutbox(sendMany, batchMax, Math.max(0, options.batchLingerMs ?? 0));
  const retries = createRetryQueue(sendMany, {
    maxQueue: options.maxQueue ?? 1000,
    retryBase: options.retryBaseMs ?? 1000,
    retryMax: options.retryMaxMs ?? 60_000,
    batchMax,
    logger: options.logger,
  });
  const queue = retries.entries;
  const inFlight = new Map<string, Delivery>();
  let seqCounter = 0;

  /**
   * Starts sending a record; the newest delivery per developer and user decides what is queued.
   * `later` starts it after the current I/O turn, so an answer that does not wait goes out first.
   */
  const deliver = (record: MoesifRecord, later: boolean): Delivery => {
    const id = keyOf(record);
    const delivery: Delivery = { developerId: record.developerId, digest: digestOf(record), seq: ++seqCounter, done: Promise.resolve(false) };
    inFlight.set(id, delivery);
    adoptNewerCompany(queue.values(), record, delivery.seq);
    const answered = new Promise<{ error?: unknown }>((resolve) => {
      outbox.push({ record, seq: delivery.seq, settle: (error) => resolve(error === undefined ? {} : { error }) }, later);
    });
    delivery.done = (async () => {
      try {
        const { error } = await answered;
        if (error !== undefined) throw error;
        const queued = queue.get(id);
        if (queued && queued.seq <= delivery.seq) retries.remove(id);
        return true;
      } catch (error) {
        const newer = inFlight.get(id) !== delivery;
        if (!newer) retries.enqueue(record, delivery.seq, (queue.get(id)?.failures ?? 0) + 1, error);
        return false;
      } finally {
        if (inFlight.get(id) === delivery) inFlight.delete(id);
      }
    })();
    return delivery;
  };

  return {
    async sync(record, syncOptions = {}) {
      const id = keyOf(record);
      const recordDigest = digestOf(record);
      if (!queue.has(id) && !inFlight.has(id) && sent.digestOf(record) === recordDigest) return 'synced';
      const waitMs = syncOptions.waitMs ?? defaultWaitMs;
      const current = inFlight.get(id);
      const delivery = current?.digest === recordDigest ? current : deliver(record, waitMs <= 0);
      return (await settledWithin(delivery.done, waitMs)) ? 'synced' : 'pending';
    },
    // A scan of the bounded queue (maxQueue) and of the deliveries in flight; callers ask once per developer.
    isPending: (developerId) => pendingDevelopers(queue, inFlight).has(developerId),
    get pendingCount() {
      return pendingDevelopers(queue, inFlight).size;
    },
    async flush() {
      outbox.sendAll();
      await Promise.all([...inFlight.values()].map((delivery) => delivery.done));
      await retries.runDue(true);
    },
    close() {
      retries.close();
      outbox.sendAll();
    },
  };
}
