/**
 * `portal-monetization stripe-setup [--plans FILE] [--dry-run]`: validates the plans file, then
 * makes the Stripe catalog match it and prints one row per product, meter and plan price.
 */
import { Command, parseArgs } from '../../cli/command-line.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { connectStripe, readStripeConnection } from '../shared/stripe-connection.ts';
import { formatTable } from '../shared/text-table.ts';
import { setupStripeCatalog, type CatalogSetupResult } from './catalog-setup.ts';

interface SetupFlags {
  plans?: string;
  dryRun?: boolean;
}

export function setupProgram(): Command {
  return new Command('portal-monetization stripe-setup')
    .description('Create or update the Stripe product, billing meters and monthly metered prices described by a plans file.\nIdempotent: an unchanged plan makes no Stripe write; a changed plan gets a new price that takes over the lookup key, and the old price is archived.')
    .option('--plans <file>', 'plans file (JSON); default: $PLANS_FILE, else plans.example.json')
    .option('--dry-run', 'read Stripe and print what would change; write nothing')
    .addHelpText(
      'after',
      `
Environment:
  STRIPE_SECRET_KEY   (required) sk_test_/sk_live_ or rk_test_/rk_live_ key
  STRIPE_API_BASE     a Stripe-compatible server instead of api.stripe.com (default: unset)
  PLANS_FILE          default for --plans

Examples:
  npm run stripe:setup -- --dry-run
  npm run stripe:setup -- --plans ./plans.json
  STRIPE_API_BASE=http://127.0.0.1:12111 STRIPE_SECRET_KEY=sk_test_sandbox npm run stripe:setup`,
    );
}

export function formatSetupResult(result: CatalogSetupResult): string {
  const rows = result.rows.map((row) => [row.kind === 'price' ? row.plan : `(${row.kind})`, row.product, row.meter, row.price, row.label, row.detail]);
  const table = formatTable(['plan', 'product', 'meter', 'price', 'action', 'detail'], rows);
  const summary = result.dryRun
    ? 'dry run: nothing was written'
    : result.writes === 0
      ? 'Stripe already matches the plans file: 0 writes'
      : `${result.writes} Stripe write${result.writes === 1 ? '' : 's'}`;
  return `${table}\n\n${summary}${result.ok ? '' : '\nsome rows failed: see "detail"; fix them and run again (finished rows are not repeated)'}`;
}

export async function runSetupCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseArgs<SetupFlags>(setupProgram(), argv);
  if (!parsed.ok) return parsed.exitCode;
  const file = parsed.options.plans ?? (env.PLANS_FILE?.trim() || 'plans.example.json');

  // Validate everything local before the first Stripe call.
  const plans = await loadPlansFile(file);
  const connection = readStripeConnection(env);
  const stripe = connectStripe(connection);

  console.log(`plans file ${file}: ${plans.plans.length} plan(s), ${plans.meters.length} meter(s); Stripe ${connection.mode} mode${connection.apiBase ? ` at ${connection.apiBase.origin}` : ''}${parsed.options.dryRun ? ' (dry run)' : ''}\n`);
  const result = await setupStripeCatalog(stripe, plans, { dryRun: parsed.options.dryRun ?? false, apiBase: connection.apiBase?.origin });
  console.log(formatSetupResult(result));
  return result.ok ? 0 : 1;
}
