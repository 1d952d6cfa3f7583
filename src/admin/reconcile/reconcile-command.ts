/**
 * `portal-monetization reconcile [--workspace W] [--dry-run] [--concurrency N]`: builds the
 * provisioner's core from the same settings the provisioner reads, walks the workspace's
 * developers and prints the counts; exit 1 when any developer failed.
 */
import type { KongConsumers } from '../../kong/kong-consumers.ts';
import { parseWorkspace } from '../../kong/kong-settings.ts';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import { consumerAsDeveloper, SIGNUP_CONSUMER_TAGS } from '../../provisioner/hosted-signup/consumer-directory.ts';
import { awsDevelopers, awsReconcileSync } from '../../provisioner/gateways/aws/aws-wiring.ts';
import { createJsonLogger, silentLogger } from '../../shared/provision-log.ts';
import { createProvisionerCore, type ProvisionerCore } from '../../provisioner/compose.ts';
import { readStripeSnapshot } from '../../provisioner/core/stripe-snapshot.ts';
import { loadProvisionerSettings } from '../../provisioner/settings/settings.ts';
import { Command, InvalidArgumentError, parseArgs, positiveInteger } from '../../shared/command-line.ts';
import { reconcileDevelopers, type MoesifMode, type ReconcileProgress, type ReconcileReport } from './reconcile-developers.ts';
import { plural } from '../../shared/plural.ts';

interface ReconcileFlags {
  workspace?: string;
  dryRun?: boolean;
  concurrency: number;
  moesif: MoesifMode;
  progressEvery: number;
  verbose?: boolean;
  resubscribe?: string;
}

function reconcileProgram(): Command {
  return new Command('portal-monetization reconcile')
    .description(
      'Make every provisionable Kong developer whole: one Stripe customer, one metered subscription, the Moesif user and company.\nUses the provisioner\'s own code and settings. Stripe is read once in bulk (100 customers or subscriptions a call, paced under STRIPE_MAX_WRITES_PER_SECOND); developers already whole cost no Stripe call of their own, and Moesif gets batches. Safe from cron and beside a running provisioner.',
    )
    .option('--workspace <name>', 'Kong workspace (default: $KONG_WORKSPACE, else "default")')
    .option('--dry-run', 'report what would be fixed; write nothing to Stripe or Moesif')
    .option('--concurrency <n>', 'developers handled at once (Stripe writes stay under STRIPE_MAX_WRITES_PER_SECOND)', positiveInteger('--concurrency', 64), 4)
    .option('--moesif <mode>', '"always": re-send the Moesif user and company of every developer (Moesif cannot be read back); "repaired": only for developers fixed in Stripe', parseMoesifMode, 'always')
    .option('--progress-every <n>', 'print a progress line every N developers (a live line on a terminal)', positiveInteger('--progress-every', 1_000_000), 100)
    .option('--resubscribe <email>', 'give ONE developer whose subscription ended (canceled, unpaid) a new subscription, then reconcile only them; the explicit way back')
    .option('--verbose', 'print the provisioner\'s JSON log line for each developer provisioned (stderr)')
    .addHelpText(
      'after',
      `
Environment (the provisioner's settings): STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_MAX_WRITES_PER_SECOND,
  MOESIF_APPLICATION_ID, MOESIF_API_BASE, MOESIF_COMPANY_ID_SOURCE, KONG_ADMIN_URL, KONG_ADMIN_TOKEN,
  KONG_ADMIN_TOKEN_FILE, KONG_WORKSPACE, PLANS_FILE, PROVISION_STATUSES (default approved).

Exit status: 0 when every provisionable developer is whole, 1 when any failed (each listed with its reason).

Examples:
  npm run reconcile -- --dry-run
  npm run reconcile -- --workspace partners --concurrency 8
  npm run reconcile -- --resubscribe ada@example.com
  */15 * * * *  cd /srv/portal-monetization && npm run --silent reconcile >> reconcile.log 2>&1`,
    );
}

/**
 * Reconcile's Moesif records wait up to 5 s to share a batch (500 a call): two calls per 500
 * developers, or per 5 s of a run slowed by Stripe writes. The final flush sends what is left.
 */
export const RECONCILE_MOESIF_BATCHING = { batchLingerMs: 5000, batchMax: 500 } as const;

function parseMoesifMode(value: string): MoesifMode {
  if (value !== 'always' && value !== 'repaired') throw new InvalidArgumentError('use "always" or "repaired"');
  return value;
}

export function progressLine(progress: ReconcileProgress): string {
  return `reconcile: ${plural(progress.seen, 'developer')} seen: ${progress.alreadyWhole} whole, ${progress.fixed} fixed, ${progress.failed} failed, ${progress.skipped} skipped`;
}

/** Fixes listed by name; beyond this only the count (a first run on a big portal fixes thousands). */
const LISTED_FIXES = 50;

function formatReconcileReport(report: ReconcileReport): string {
  const lines: string[] = [];
  const skipped = Object.entries(report.skippedByStatus)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  lines.push(`developers seen:  ${report.seen}`);
  lines.push(`already whole:    ${report.alreadyWhole}`);
  lines.push(`${report.dryRun ? 'would fix:       ' : 'fixed:           '} ${report.fixed}`);
  lines.push(`failed:           ${report.failed}`);
  lines.push(`skipped:          ${report.skipped}${skipped ? ` (not provisionable: ${skipped})` : ''}`);
  lines.push(`ended:            ${report.ended.length}${report.ended.length ? ' (no new subscription; access stays refused)' : ''}`);
  if (!report.dryRun) lines.push(`access changed:   ${report.accessChanges.length}`);
  if (report.fixes.length) {
    lines.push('', report.dryRun ? 'would fix:' : 'fixed:');
    for (const fix of report.fixes.slice(0, LISTED_FIXES)) lines.push(`  ${fix.email} (${fix.developerId}): ${report.dryRun ? 'missing' : 'created'} ${fix.parts.join(', ') || 'nothing'}`);
    if (report.fixes.length > LISTED_FIXES) lines.push(`  ... and ${report.fixes.length - LISTED_FIXES} more`);
  }
  if (report.ended.length) {
    lines.push('', 'ended (give one a new subscription with --resubscribe EMAIL):');
    for (const ended of report.ended.slice(0, LISTED_FIXES)) lines.push(`  ${ended.email} (${ended.developerId}): subscription ${ended.status}`);
    if (report.ended.length > LISTED_FIXES) lines.push(`  ... and ${report.ended.length - LISTED_FIXES} more`);
  }
  if (report.accessChanges.length) {
    lines.push('', 'access at Kong:');
    for (const entry of report.accessChanges.slice(0, LISTED_FIXES)) lines.push(`  ${entry.email} (${entry.developerId}): ${entry.change} (${entry.reason})`);
    if (report.accessChanges.length > LISTED_FIXES) lines.push(`  ... and ${report.accessChanges.length - LISTED_FIXES} more`);
  }
  if (report.failures.length) {
    lines.push('', 'failed:');
    for (const failure of report.failures) lines.push(`  ${failure.email} (${failure.developerId}): [${failure.code}] ${failure.reason}`);
  }
  if (report.dryRun) lines.push('', 'dry run: nothing was written');
  return lines.join('\n');
}

export async function runReconcileCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseArgs<ReconcileFlags>(reconcileProgram(), argv);
  if (!parsed.ok) return parsed.exitCode;
  const flags = parsed.options;
  const workspace = flags.workspace === undefined ? undefined : parseWorkspace(flags.workspace, '--workspace');
  const settings = await loadProvisionerSettings(workspace === undefined ? env : { ...env, KONG_WORKSPACE: workspace });
  const core = createProvisionerCore(settings, {
    logger: flags.verbose ? createJsonLogger((line) => process.stderr.write(`${line}\n`)) : silentLogger,
    moesifSync: RECONCILE_MOESIF_BATCHING,
  });

  if (flags.resubscribe !== undefined) return resubscribe(core, flags.resubscribe, flags.dryRun ?? false);
  const live = process.stderr.isTTY === true;
  console.log(`reconcile: workspace "${settings.kong.workspace}", Stripe ${settings.stripe.mode} mode, at most ${settings.stripe.maxWritesPerSecond} writes/s${flags.dryRun ? ' (dry run)' : ''}`);
  try {
    const report = await reconcileDevelopers(
      {
        // SIGNUP_MODE=hosted: the hosted signup's consumers (found by their tag) are the developers.
        listDevelopers: () => (core.aws ? awsDevelopers(core.aws) : core.consumers ? signupConsumersAsDevelopers(core.consumers) : core.kong.listDevelopers()),
        provisioner: core.provisioner,
        moesif: core.moesif,
        syncAccess: core.aws ? awsReconcileSync(core.aws, core.billing.access) : (developer, options) => core.billing.access.syncDeveloper(developer, options),
        readSnapshot: () => readStripeSnapshot(core),
      },
      {
        dryRun: flags.dryRun ?? false,
        concurrency: flags.concurrency,
        moesif: flags.moesif,
        progressEvery: live ? 1 : flags.progressEvery,
        onProgress: (progress) => (live ? process.stderr.write(`\r${progressLine(progress)}`) : console.error(progressLine(progress))),
      },
    );
    if (live) process.stderr.write('\n');
    console.log(formatReconcileReport(report));
    return report.failed > 0 ? 1 : 0;
  } finally {
    core.moesif.close();
  }
}

/** The explicit path back for a developer whose subscription ended: one new subscription, access re-derived. */
async function resubscribe(core: ProvisionerCore, email: string, dryRun: boolean): Promise<number> {
  try {
    const developer = await core.kong.getDeveloper(email.trim());
    if (!developer) {
      console.error(`reconcile --resubscribe: no developer ${email} in workspace "${core.kong.workspace}"`);
      return 1;
    }
    const inspection = await core.provisioner.inspectDeveloper(developer);
    if (!inspection.endedStatus) {
      console.log(`${developer.email}: nothing to do (${inspection.subscriptionId ? 'the subscription has not ended' : 'no subscription yet: a plain reconcile provisions it'})`);
      return 0;
    }
    if (inspection.endedStatus === 'unpaid') {
      console.log(`${developer.email}: the subscription is unpaid, not ended: paying its open invoices (Stripe's customer portal, "Manage billing") makes it active again; nothing created`);
      return 1;
    }
    if (dryRun) {
      console.log(`${developer.email}: would create a new subscription (the last one is ${inspection.endedStatus})\ndry run: nothing was written`);
      return 0;
    }
    const outcome = await core.provisioner.provisionDeveloper(developer, { mode: 'reconcile', resubscribe: true });
    const access = await core.billing.access.syncDeveloper(developer);
    console.log(`${developer.email}: new subscription on plan ${outcome.plan}; access ${access?.decision.access ?? 'unknown'} (${access?.decision.reason ?? ''})`);
    return 0;
  } finally {
    core.moesif.close();
  }
}

async function* signupConsumersAsDevelopers(consumers: KongConsumers): AsyncGenerator<KongDeveloper> {
  for (const consumer of await consumers.list([...SIGNUP_CONSUMER_TAGS])) yield consumerAsDeveloper(consumer);
}
