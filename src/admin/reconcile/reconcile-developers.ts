/**
 * reconcile's engine: walk every Kong developer (paginated) and make each provisionable one whole
 * with the provisioner's own provisionDeveloper (no second implementation). Stripe is read once in
 * bulk first (every customer and subscription, 100 a page; core/stripe-snapshot.ts), so a developer
 * already whole costs no Stripe call at all; one the snapshot lacks is looked up live before any
 * create. Safe to run from cron and beside a running provisioner, because that code is idempotent
 * across processes.
 */
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { developerStatusName } from '../../kong/kong-types.ts';
import type { MoesifSync } from '../../provisioner/moesif/moesif-sync.ts';
import type { ProvisionOutcome, Provisioner } from '../../provisioner/core/provisioner.ts';
import type { AccessDecision } from '../../provisioner/core/access-decision.ts';
import type { AccessChange } from '../../provisioner/core/kong-access.ts';
import { createdSyncOptions, type SyncOptions } from '../../provisioner/core/access-sync.ts';
import type { StripeSnapshot } from '../../provisioner/core/stripe-snapshot.ts';
import { MonetizationError } from '../../shared/errors.ts';

export interface ReconcileDeps {
  /** Any paginated walk of the workspace's developers (KongAdminClient.listDevelopers). */
  listDevelopers: () => AsyncIterable<KongDeveloper>;
  provisioner: Pick<Provisioner, 'provisionDeveloper' | 'inspectDeveloper' | 'isProvisionable'>;
  /** The provisioner's Moesif queue: flushed at the end, so a Moesif hiccup gets one more try. */
  moesif?: Pick<MoesifSync, 'flush' | 'isPending'>;
  /** Converges the developer's access at Kong to Stripe (the provisioner's access sync); omitted: access is left alone. */
  syncAccess?: (developer: KongDeveloper, options: SyncOptions) => Promise<{ change: AccessChange; decision: AccessDecision } | undefined>;
  /** Bulk read of Stripe (readStripeSnapshot), taken once before the walk; omitted: every developer is listed live. */
  readSnapshot?: () => Promise<StripeSnapshot>;
}

/**
 * always: provision every provisionable developer; whole ones cost Stripe reads and one Moesif
 * upsert of user and company (Moesif cannot be read back, so re-sending is the only way to know it
 * holds them). repaired: inspect first and provision only developers missing something in Stripe.
 */
export type MoesifMode = 'always' | 'repaired';

interface ReconcileOptions {
  dryRun?: boolean;
  /** Developers handled at once; default 4. Stripe writes are paced by the provisioner's limiter. */
  concurrency?: number;
  moesif?: MoesifMode;
  /** Called after every `progressEvery` developers (default 100) and once at the end. */
  onProgress?: (progress: ReconcileProgress) => void;
  progressEvery?: number;
}

export interface ReconcileProgress {
  seen: number;
  alreadyWhole: number;
  fixed: number;
  failed: number;
  skipped: number;
}

interface DeveloperFailure {
  developerId: string;
  email: string;
  code: string;
  reason: string;
}

interface DeveloperFix {
  developerId: string;
  email: string;
  /** What was (or in a dry run would be) created. */
  parts: string[];
}

/** A developer whose subscriptions all ended: reconcile creates nothing for them and keeps them refused. */
interface EndedDeveloper {
  developerId: string;
  email: string;
  /** The ended subscription's status (canceled, incomplete_expired). */
  status: string;
}

interface AccessChangeEntry {
  developerId: string;
  email: string;
  change: AccessChange;
  reason: string;
}

export interface ReconcileReport extends ReconcileProgress {
  dryRun: boolean;
  ended: EndedDeveloper[];
  /** Developers whose access at Kong this run changed (blocked, unblocked, message updated). */
  accessChanges: AccessChangeEntry[];
  /** Skipped developers per status name (not provisionable). */
  skippedByStatus: Record<string, number>;
  fixes: DeveloperFix[];
  failures: DeveloperFailure[];
}

/** Errors after which every other developer would fail the same way: stop instead. */
const FATAL_CODES = new Set(['stripe_unauthorized', 'kong_unauthorized']);

type Provisioned = Array<{ developer: KongDeveloper; counted: 'alreadyWhole' | 'fixed' }>;

/**
 * Runs `visit` over the developers with `concurrency` workers. They pull from one generator:
 * AsyncGenerator queues concurrent next() calls, so each developer is handed out once and Kong
 * pages are fetched only as fast as they are used.
 */
async function forEachDeveloper(developers: AsyncIterable<KongDeveloper>, concurrency: number, visit: (developer: KongDeveloper) => Promise<void>): Promise<void> {
  const walk = developers[Symbol.asyncIterator]();
  const worker = async () => {
    for (;;) {
      const next = await walk.next();
      if (next.done) return;
      await visit(next.value);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Moesif records that failed during the walk sit in the provisioner's retry queue: one last try; who is still pending failed. */
async function retryMoesif(moesif: NonNullable<ReconcileDeps['moesif']>, provisioned: Provisioned, report: ReconcileReport, fail: (developer: KongDeveloper, error: unknown) => void): Promise<void> {
  await moesif.flush();
  for (const { developer, counted } of provisioned) {
    if (!moesif.isPending(developer.id)) continue;
    report[counted]--;
    if (counted === 'fixed') report.fixes = report.fixes.filter((fix) => fix.developerId !== developer.id);
    fail(developer, new MonetizationError('moesif_unavailable', 'Stripe is whole but Moesif did not accept the user and company; run reconcile again once Moesif answers'));
  }
}

/** A developer's failure goes into the report; one every other developer would share stops the run. */
function recordFailure(report: ReconcileReport, developer: KongDeveloper, error: unknown): void {
  const code = error instanceof MonetizationError ? error.code : 'internal_error';
  if (FATAL_CODES.has(code)) throw error;
  report.failed++;
  report.failures.push({ developerId: developer.id, email: developer.email, code, reason: error instanceof Error ? error.message : String(error) });
}

/** Counts a provisioning call's outcome; undefined when the subscription had ended (reported as such). */
function countOutcome(report: ReconcileReport, developer: KongDeveloper, outcome: ProvisionOutcome): Provisioned[number]['counted'] | undefined {
  if (outcome.ended) {
    report.ended.push({ developerId: developer.id, email: developer.email, status: outcome.ended.status });
    return undefined;
  }
  const parts = [outcome.created.customer ? 'customer' : '', outcome.created.subscription ? 'subscription' : ''].filter(Boolean);
  // Nothing created: whole already (or made whole meanwhile by the running provisioner).
  const counted = parts.length === 0 ? 'alreadyWhole' : 'fixed';
  report[counted]++;
  if (counted === 'fixed') report.fixes.push({ developerId: developer.id, email: developer.email, parts });
  return counted;
}

export async function reconcileDevelopers(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const dryRun = options.dryRun ?? false;
  const mode = options.moesif ?? 'always';
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const every = Math.max(1, Math.floor(options.progressEvery ?? 100));
  const report: ReconcileReport = { dryRun, ended: [], accessChanges: [], seen: 0, alreadyWhole: 0, fixed: 0, failed: 0, skipped: 0, skippedByStatus: {}, fixes: [], failures: [] };
  const provisioned: Provisioned = [];

  // Progress counts finished developers, so each line is printed once and its counts add up.
  let finished = 0;
  const progress = () => options.onProgress?.({ seen: finished, alreadyWhole: report.alreadyWhole, fixed: report.fixed, failed: report.failed, skipped: report.skipped });

  const fail = (developer: KongDeveloper, error: unknown) => recordFailure(report, developer, error);

  const snapshot = deps.readSnapshot ? await deps.readSnapshot() : undefined;
  const syncAccess = async (developer: KongDeveloper, created?: ProvisionOutcome['createdObjects']) => {
    if (dryRun || !deps.syncAccess) return;
    const outcome = await deps.syncAccess(developer, { allowSearch: true, snapshot, ...createdSyncOptions(created) });
    if (outcome && outcome.change !== 'unchanged')
      report.accessChanges.push({ developerId: developer.id, email: developer.email, change: outcome.change, reason: outcome.decision.reason });
  };

  /** Dry run, or --moesif repaired: the inspection alone settles an ended, whole or (dry run) broken developer. True: nothing more to do. */
  const settledByInspection = async (developer: KongDeveloper): Promise<boolean> => {
    const inspection = await deps.provisioner.inspectDeveloper(developer, snapshot ? { snapshot } : {});
    if (inspection.planError) throw new MonetizationError('plan_not_found', inspection.planError);
    if (inspection.endedStatus) {
      report.ended.push({ developerId: developer.id, email: developer.email, status: inspection.endedStatus });
      return true;
    }
    if (inspection.whole) {
      report.alreadyWhole++;
      await syncAccess(developer);
      return true;
    }
    if (!dryRun) return false;
    report.fixed++;
    report.fixes.push({ developerId: developer.id, email: developer.email, parts: [...inspection.missing] });
    return true;
  };

  const handle = async (developer: KongDeveloper) => {
    if (!deps.provisioner.isProvisionable(developer)) {
      const status = developerStatusName(developer.status);
      report.skipped++;
      report.skippedByStatus[status] = (report.skippedByStatus[status] ?? 0) + 1;
      // A revoked or rejected developer keeps no access, whatever Stripe holds.
      await syncAccess(developer).catch((error: unknown) => fail(developer, error));
      return;
    }
    try {
      if ((dryRun || mode === 'repaired') && (await settledByInspection(developer))) return;
      const outcome = await deps.provisioner.provisionDeveloper(developer, { mode: 'reconcile', ...(snapshot ? { snapshot } : {}) });
      await syncAccess(developer, outcome.createdObjects);
      const counted = countOutcome(report, developer, outcome);
      if (counted) provisioned.push({ developer, counted });
    } catch (error) {
      fail(developer, error);
      // Failed is not allowed: access is converged anyway (refused under card collection, with the
      // problem named when provisioning cannot succeed), instead of leaving the key open.
      await syncAccess(developer).catch(() => undefined);
    }
  };

  await forEachDeveloper(deps.listDevelopers(), concurrency, async (developer) => {
    report.seen++;
    await handle(developer);
    finished++;
    if (finished % every === 0) progress();
  });
  if (!dryRun && deps.moesif && provisioned.length) await retryMoesif(deps.moesif, provisioned, report, fail);
  progress();
  return report;
}
