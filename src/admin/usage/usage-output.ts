/** The usage command's printed tables: what each window sent, each true-up, the per-developer view. */
import { formatTable } from '../shared/text-table.ts';
import type { TrueUpResult } from '../../provisioner/usage/true-up.ts';
import type { WindowReport } from '../../provisioner/usage/usage-reporter.ts';
import type { UsageRun } from '../../provisioner/usage/usage-service.ts';
import type { UsageViewRow } from '../../provisioner/usage/usage-view.ts';
import { isoTime } from '../../provisioner/usage/usage-windows.ts';

export function formatReport(reports: WindowReport[], dryRun: boolean): string {
  const rows = reports.flatMap((report) =>
    report.companies.map((company) => [
      `${isoTime(report.window.start)}${report.partialUntil ? ` (closed early at ${isoTime(report.partialUntil)})` : ''}`,
      company.customerId ?? company.companyId,
      String(company.calls),
      company.outcome + (company.error ? `: ${company.error}` : ''),
    ]),
  );
  const lines = [`windows read: ${reports.length}; customers with billable calls: ${rows.length}`];
  if (rows.length) lines.push('', formatTable(['window', 'customer', 'calls', 'outcome'], rows));
  if (dryRun) lines.push('', 'dry run: nothing was sent');
  return lines.join('\n');
}

function formatTrueUps(results: TrueUpResult[]): string {
  if (results.length === 0) return 'true-ups due: 0';
  const rows = results.map((r) => [r.customerId, `${isoTime(r.period.start)}..${isoTime(r.period.end)}`, String(r.moesifCalls ?? ''), String(r.stripeUsage ?? ''), r.status + (r.error ? `: ${r.error}` : '')]);
  return [`true-ups due: ${results.length}`, '', formatTable(['customer', 'period', 'moesif', 'stripe', 'status'], rows)].join('\n');
}

export function formatRun(run: UsageRun, dryRun: boolean): string {
  return [formatReport(run.windows, dryRun), '', formatTrueUps(run.trueUps)].join('\n');
}

export function formatView(rows: UsageViewRow[]): string {
  if (rows.length === 0) return 'no billable calls in Moesif for these windows';
  const table = rows.map((row) => [row.email ?? row.companyId, String(row.moesifCalls), row.stripeUsage === undefined ? 'not billable (no metered subscription)' : String(row.stripeUsage), row.difference === undefined ? '' : String(row.difference)]);
  const missing = rows.filter((row) => (row.difference ?? 0) > 0).length;
  return [formatTable(['developer', 'calls in Moesif', 'reported to Stripe', 'difference'], table), '', missing ? `${missing} developer(s) with calls not yet in Stripe (windows still within the ingestion lag, or a send to retry)` : 'nothing missing'].join('\n');
}
