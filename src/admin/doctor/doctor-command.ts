/** `portal-monetization doctor [--workspace W] [--provisioner-url URL] [--plans FILE]`. */
import { Command, parseArgs } from '../../cli/command-line.ts';
import { formatCheck } from './check-runner.ts';

interface DoctorFlags {
  workspace?: string;
  provisionerUrl?: string;
  plans?: string;
}

export function doctorProgram(): Command {
  return new Command('portal-monetization doctor')
    .description('Check the whole installation, one line per check; each failure says how to fix it. Reads only: nothing is written anywhere.')
    .option('--workspace <name>', 'Kong workspace (default: $KONG_WORKSPACE, else "default")')
    .option('--provisioner-url <url>', 'provisioner base URL, as Kong and the browser reach it (default: $PROVISIONER_URL, else http://127.0.0.1:$PROVISIONER_PORT or 8787)')
    .option('--plans <file>', 'plans file (default: $PLANS_FILE)')
    .addHelpText(
      'after',
      `
Checks: Kong Admin API reachable and token accepted; portal enabled; active theme; bundle installed
and current; "plan" meta field; event hook to the provisioner; provisioner /readyz; plans file;
Stripe key (test or live mode); each plan's price exists, is active, metered and backed by a meter;
Moesif application id accepted; a key-auth plugin with "apikey" in key_names; the Moesif plugin.
A check whose prerequisite failed is reported as skipped.

Environment: KONG_ADMIN_URL, KONG_ADMIN_TOKEN, KONG_ADMIN_TOKEN_FILE, KONG_WORKSPACE, STRIPE_SECRET_KEY,
  STRIPE_API_BASE, MOESIF_APPLICATION_ID, MOESIF_API_BASE, PLANS_FILE, PROVISIONER_URL, PROVISIONER_PORT.

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
  console.log(failed.length ? `\n${failed.length} of ${results.length} checks did not pass` : `\nall ${results.length} checks passed`);
  return failed.length ? 1 : 0;
}
