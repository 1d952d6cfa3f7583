/**
 * `portal-monetization stripe-setup [--plans FILE] [--dry-run]`: validates the plans file, then
 * makes the Stripe catalog match it and prints one row per product, meter and plan price.
 */
import { Command, parseArgs } from '../../shared/command-line.ts';
import { parseHttpUrl } from '../../shared/http-url-setting.ts';
import { loadPlansFile } from '../../shared/plans.ts';
import { connectStripe, readStripeConnection } from '../shared/stripe-connection.ts';
import { formatTable } from '../shared/text-table.ts';
import { setupStripeCatalog, type CatalogSetupResult } from './catalog-setup.ts';
import { setupCustomerPortal } from './portal-setup.ts';
import { setupWebhookEndpoint } from './webhook-setup.ts';
import { plural } from '../../shared/plural.ts';

interface SetupFlags {
  plans?: string;
  dryRun?: boolean;
  webhookUrl?: string;
  returnUrl?: string;
}

function setupProgram(): Command {
  return new Command('portal-monetization stripe-setup')
    .description('Create or update the Stripe product, billing meters and monthly metered prices described by a plans file.\nIdempotent: an unchanged plan makes no Stripe write; a changed plan gets a new price that takes over the lookup key, and the old price is archived.')
    .option('--plans <file>', 'plans file (JSON); default: $PLANS_FILE, else plans.example.json')
    .option('--dry-run', 'read Stripe and print what would change; write nothing')
    .option('--webhook-url <url>', "the provisioner's public POST /stripe/webhooks URL: registers exactly one Stripe webhook endpoint for it (the signing secret is printed once, on creation)")
    .option('--return-url <url>', 'where the Stripe customer portal links back to; default: $PORTAL_DASHBOARD_URL')
    .addHelpText(
      'after',
      `
Environment:
  STRIPE_SECRET_KEY   (required) sk_test_/sk_live_ or rk_test_/rk_live_ key
  STRIPE_API_BASE     a Stripe-compatible server instead of api.stripe.com (default: unset)
  PLANS_FILE          default for --plans
  PORTAL_DASHBOARD_URL  default for --return-url

Examples:
  npm run stripe:setup -- --dry-run
  npm run stripe:setup -- --plans ./plans.json
  npm run stripe:setup -- --webhook-url https://billing.example.com/stripe/webhooks
  STRIPE_API_BASE=http://127.0.0.1:12111 STRIPE_SECRET_KEY=sk_test_sandbox npm run stripe:setup`,
    );
}

function formatSetupResult(result: CatalogSetupResult): string {
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
  const webhookUrl = parsed.options.webhookUrl === undefined ? undefined : parseHttpUrl(parsed.options.webhookUrl, '--webhook-url', { example: 'https://billing.example.com/stripe/webhooks', publicInBrowser: true });
  const returnUrlText = parsed.options.returnUrl ?? (env.PORTAL_DASHBOARD_URL?.trim() || undefined);
  const returnUrl = returnUrlText === undefined ? undefined : parseHttpUrl(returnUrlText, parsed.options.returnUrl ? '--return-url' : 'PORTAL_DASHBOARD_URL', { example: 'https://portal.example.com/default/dashboard', publicInBrowser: true }).href;

  // Validate everything local before the first Stripe call.
  const plans = await loadPlansFile(file);
  const connection = readStripeConnection(env);
  const stripe = connectStripe(connection);

  console.log(`plans file ${file}: ${plural(plans.plans.length, 'plan')}, ${plural(plans.meters.length, 'meter')}; Stripe ${connection.mode} mode${connection.apiBase ? ` at ${connection.apiBase.origin}` : ''}${parsed.options.dryRun ? ' (dry run)' : ''}\n`);
  const dryRun = parsed.options.dryRun ?? false;
  const result = await setupStripeCatalog(stripe, plans, { dryRun, apiBase: connection.apiBase?.origin });
  console.log(formatSetupResult(result));
  if (!result.ok) return 1;

  const portal = await setupCustomerPortal(stripe, plans, { dryRun, returnUrl });
  console.log(`\ncustomer portal: ${portal.action}${portal.configurationId ? ` ${portal.configurationId}` : ''} (${portal.detail})${portal.loginUrl ? `\n  login page ("Manage billing"): ${portal.loginUrl}` : ''}`);
  if (webhookUrl) {
    const webhook = await setupWebhookEndpoint(stripe, webhookUrl.href, { dryRun });
    console.log(`webhook endpoint ${webhookUrl.href}: ${webhook.action}${webhook.endpointId ? ` ${webhook.endpointId}` : ''} (${webhook.detail})`);
    if (webhook.duplicateIds.length)
      console.log(`  warning: ${webhook.duplicateIds.length} more endpoint(s) at this URL (${webhook.duplicateIds.join(', ')}) deliver every event again; delete them in the Stripe Dashboard`);
    // Stripe shows the signing secret only in the create answer: this is the one time to copy it.
    if (webhook.secret) console.log(`\n  Set this in the provisioner's environment (shown once, Stripe will not show it again):\n  STRIPE_WEBHOOK_SECRET=${webhook.secret}`);
  } else console.log('webhook endpoint: skipped (give --webhook-url to register the provisioner for Stripe events)');
  return 0;
}
