/** `portal-monetization doctor [--workspace W] [--provisioner-url URL] [--plans FILE]`. */
import { Command, parseArgs } from '../../shared/command-line.ts';
import { formatCheck } from './check-runner.ts';
import { plural } from '../../shared/plural.ts';

interface DoctorFlags {
  workspace?: string;
  provisionerUrl?: string;
  plans?: string;
}

function doctorProgram(): Command {
  return new Command('portal-monetization doctor')
    .description('Check the whole installation, one line per check; each failure says how to fix it. Reads only: nothing is written anywhere.')
    .option('--workspace <name>', 'Kong workspace (default: $KONG_WORKSPACE, else "default")')
    .option('--provisioner-url <url>', 'provisioner base URL, as Kong and the browser reach it (default: $PROVISIONER_URL, else http://127.0.0.1:$PROVISIONER_PORT or 8787)')
    .option('--plans <file>', 'plans file (default: $PLANS_FILE)')
    .addHelpText(
      'after',
      `
Checks, in the order they run (each line of output starts with the check's name):
  Kong Admin API                  reachable, token accepted, workspace readable
  portal enabled                  the workspace serves a Dev Portal
  active theme                    portal.conf.yaml's theme.name
  bundle installed and current    monetization.js and the two blocks match this build and call the provisioner
  plan meta field                 the registration form has a "plan" field
  event hook                      a crud/developers webhook to <provisioner>/kong/events
  provisioner /readyz             the provisioner answers ready
  plans file                      PLANS_FILE (or --plans) is valid
  Stripe key                      accepted, test or live mode
  plan prices                     one line per plan: its price exists, is active, metered and backed by a meter
  Moesif application id           accepted by the Moesif API
  key-auth plugin                 "apikey" is in key_names
  Moesif plugin                   enabled, with the same application id
  Moesif user = developer email   the plugin names callers by consumer username; no developer has a custom_id
  Stripe webhook endpoint         enabled, pointed at the provisioner, listening to every event billing needs
  usage reporting                 who reports usage to Stripe (USAGE_REPORTING), the management token, no double billing
With SIGNUP_MODE=hosted (no portal) the five portal checks (portal enabled, active theme, bundle
installed and current, plan meta field, event hook) give way to:
  Kong Admin API                  reachable, token accepted, consumers readable (Konnect too)
  hosted signup page              <provisioner>/signup serves the form
With GATEWAY=aws (hosted signup on AWS API Gateway) the Kong checks give way to:
  AWS credentials and region      the SDK's default chain signs, AWS_REGION answers
  AWS usage plans                 each plan's usage plan exists and is attached to a stage
  AWS API key source and required keys  API key source HEADER, a key required on every method
  AWS access log for Moesif       the stage's access log names the API key id as "user"
  AWS usage plan limits           (after "plans file") each usage plan's throttle and quota are what
                                  npm run aws:setup makes of the plans file's rate limits and hard quotas
A check whose prerequisite failed is reported as skipped.

Environment: KONG_ADMIN_URL, KONG_ADMIN_TOKEN, KONG_ADMIN_TOKEN_FILE, KONG_WORKSPACE, STRIPE_SECRET_KEY,
  STRIPE_API_BASE, MOESIF_APPLICATION_ID, MOESIF_API_BASE, PLANS_FILE, PROVISIONER_URL, PROVISIONER_PORT,
  READYZ_TOKEN, SIGNUP_MODE, USAGE_REPORTING, MOESIF_MANAGEMENT_TOKEN, GATEWAY, AWS_REGION,
  AWS_API_GATEWAY_USAGE_PLANS.

Exit status: 0 when every check passes, 1 otherwise.

Examples:
  npm run doctor
  npm run doctor -- --workspace partners --provisioner-url https://billing.example.com`,
    );
}

export async function runDoctorCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseArgs<DoctorFlags>(doctorProgram(), argv);
  if (!parsed.ok) return parsed.exitCode;
  const { workspace, provisionerUrl, plans } = parsed.options;
  // Loaded only now: the checks pull in the Stripe SDK, undici and zod, which --help never needs.
  const { doctorInputsFromEnv, runDoctor } = await import('./doctor.ts');
  const inputs = await doctorInputsFromEnv(env, { workspace, provisionerUrl, plansFile: plans });
  const results = await runDoctor(inputs, (result) => console.log(formatCheck(result)));
  const failed = results.filter((r) => !r.ok);
  console.log(failed.length ? `\n${failed.length} of ${plural(results.length, 'check')} did not pass` : `\nall ${plural(results.length, 'check')} passed`);
  return failed.length ? 1 : 0;
}
