/**
 * The usage reporter: Moesif's billable calls per company, per window, to Stripe meter events,
 * exactly once. Each window is read with one (paged) Moesif query for all companies; each company
 * with calls gets one meter event whose identifier is derived from customer, meter and window, so
 * a retry, a restart, a crash half way or a second reporter running at once re-sends the same
 * identifier and Stripe keeps one. Windows are reported once Moesif's ingestion lag has passed;
 * calls Moesif ingests later are added by the period's true-up (true-up.ts).
 */
import type { BillingTarget, CompanyDirectory } from './company-directory.ts';
import type { MoesifManagementClient } from './moesif-management-client.ts';
import { usageIdentifier, type MeterReport, type SendOutcome, type UsageSink } from './stripe-meter-sink.ts';
import { windowAt, windowsEndingIn, windowTimestamp, type UsageWindow } from './usage-windows.ts';

export interface UsageReporterOptions {
  moesif: MoesifManagementClient;
  sink: UsageSink;
  directory: CompanyDirectory;
  windowSeconds: number;
  lagSeconds: number;
  /** Closed windows looked at on each run (a restart re-sends them; Stripe dedupes). Default 3; at most 23 hours' worth. */
  lookbackWindows?: number;
  /** Wall clock in ms. */
  now?: () => number;
  /**
   * Seconds Stripe's clock is ahead of the wall (the sandbox's Stripe emulator account clock);
   * 0 against Stripe. Moesif times are wall times, meter event timestamps are Stripe's.
   */
  stripeTimeShiftSeconds?: () => number;
  dryRun?: boolean;
  /** Meter events in flight at once (the Stripe write limiter paces them); default 8. */
  concurrency?: number;
}

interface CompanyOutcome {
  companyId: string;
  calls: number;
  customerId?: string;
  outcome: SendOutcome | 'would_send' | 'not_billable' | 'failed';
  error?: string;
}

export interface WindowReport {
  window: UsageWindow;
  /** Set when the open window was closed early (sandbox, tests): calls counted up to this time. */
  partialUntil?: number;
  companies: CompanyOutcome[];
}

interface ReportWindowOptions {
  partialUntil?: number;
  /**
   * Backfill of a window Stripe may no longer dedupe (identifiers are kept at least 24 hours):
   * skip a customer whose meter already shows usage in that window.
   */
  checkStripeFirst?: boolean;
}

/** Windows older than this (since their end) are backfilled only after checking Stripe's summary. */
const DEDUPE_SAFE_SECONDS = 23 * 3600;

export class UsageReporter {
  readonly options: UsageReporterOptions;
  /** Windows fully delivered by this process (nothing failed): not read again. */
  private readonly done = new Set<number>();

  constructor(options: UsageReporterOptions) {
    this.options = options;
  }

  nowSeconds(): number {
    return Math.floor((this.options.now ?? Date.now)() / 1000);
  }

  toStripeTime(seconds: number): number {
    return seconds + (this.options.stripeTimeShiftSeconds?.() ?? 0);
  }

  /** Windows whose calls Moesif has all (the lag has passed) and that this run looks at. */
  closedWindows(): UsageWindow[] {
    const { windowSeconds, lagSeconds } = this.options;
    const lookback = Math.min(this.options.lookbackWindows ?? 3, Math.floor((23 * 3600) / windowSeconds));
    const latestEnd = this.nowSeconds() - lagSeconds;
    return windowsEndingIn(latestEnd - lookback * windowSeconds, latestEnd, windowSeconds);
  }

  /** Reports every closed window not yet delivered by this process; with closeOpenWindow, the open one up to now too. */
  async reportDue(options: { closeOpenWindow?: boolean } = {}): Promise<WindowReport[]> {
    const reports: WindowReport[] = [];
    for (const window of this.closedWindows()) if (!this.done.has(window.start)) reports.push(await this.reportWindow(window));
    if (options.closeOpenWindow) {
      const now = this.nowSeconds();
      const open = windowAt(now, this.options.windowSeconds);
      // The lag is skipped on request only: calls Moesif has not ingested yet come with the true-up.
      // Up to the end of the current second, so a call made just now counts.
      if (!this.done.has(open.start)) reports.push(await this.reportWindow(open, { partialUntil: now + 1 }));
    }
    return reports;
  }

  /**
   * One window: one Moesif query (paged) for all companies, one meter event per company with
   * calls. A closed-early window uses the full window's identifier, so its later calls are never
   * billed twice (the period's true-up adds them).
   */
  async reportWindow(window: UsageWindow, options: ReportWindowOptions = {}): Promise<WindowReport> {
    const until = options.partialUntil === undefined ? window.end : Math.min(window.end, options.partialUntil);
    const counts = await this.options.moesif.countByCompany({ start: window.start, end: until });
    const entries = [...counts.entries()].filter(([, calls]) => calls > 0);
    const companies: CompanyOutcome[] = [];
    const concurrency = this.options.concurrency ?? 8;
    for (let i = 0; i < entries.length; i += concurrency) {
      const chunk = entries.slice(i, i + concurrency);
      companies.push(...(await Promise.all(chunk.map(([companyId, calls]) => this.reportCompany(window, companyId, calls, until, options.checkStripeFirst ?? false)))));
    }
    if (options.partialUntil === undefined && !this.options.dryRun && companies.every((c) => c.outcome !== 'failed')) this.done.add(window.start);
    return { window, ...(options.partialUntil === undefined ? {} : { partialUntil: until }), companies };
  }

  /** Backfills (--from/--to) of windows past Stripe's dedupe horizon check Stripe first; recent ones rely on identifiers. */
  async backfill(windows: UsageWindow[]): Promise<WindowReport[]> {
    const reports: WindowReport[] = [];
    for (const window of windows) reports.push(await this.reportWindow(window, { checkStripeFirst: this.nowSeconds() - window.end > DEDUPE_SAFE_SECONDS }));
    return reports;
  }

  private async alreadyInStripe(target: BillingTarget, window: UsageWindow): Promise<boolean> {
    const bucket = Math.floor(this.toStripeTime(windowTimestamp(window)) / 3600) * 3600;
    const usage = await this.options.sink.hourlyUsage(target.meterId, target.customerId, bucket, bucket + 3600);
    return (usage.get(bucket) ?? 0) > 0;
  }

  private async reportCompany(window: UsageWindow, companyId: string, calls: number, until: number, checkStripeFirst: boolean): Promise<CompanyOutcome> {
    try {
      const target = await this.options.directory.resolve(companyId);
      if (!target) return { companyId, calls, outcome: 'not_billable' };
      if (checkStripeFirst && (await this.alreadyInStripe(target, window))) return { companyId, calls, customerId: target.customerId, outcome: 'already_delivered' };
      const report: MeterReport = {
        eventName: target.eventName,
        customerId: target.customerId,
        value: calls,
        timestamp: this.toStripeTime(Math.min(windowTimestamp(window), until - 1)),
        identifier: windowIdentifier(target.customerId, target.eventName, window),
      };
      if (this.options.dryRun) return { companyId, calls, customerId: target.customerId, outcome: 'would_send' };
      return { companyId, calls, customerId: target.customerId, outcome: await this.options.sink.send(report) };
    } catch (error) {
      return { companyId, calls, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
  }
}

/** The identifier of a customer's usage in one window: the same on every run, replica and retry. */
export function windowIdentifier(customerId: string, eventName: string, window: UsageWindow): string {
  return usageIdentifier('window', [customerId, eventName, window.start, window.end]);
}
