/**
 * `npm start` / `portal-monetization start`: run the local sandbox until Ctrl-C.
 */
import { Option } from 'commander';
import pc from 'picocolors';
import { DEFAULT_PORTS, printableEnv, SANDBOX_SERVICES, startSandbox, type SandboxPorts, type SandboxService } from '../../dev/start-sandbox.ts';
import { startMailCatcher, type RunningMailCatcher } from '../../sandbox/mail/mail-catcher.ts';
import { Command, InvalidArgumentError, parseArgs } from '../../shared/command-line.ts';
import { reportFatal } from '../report-error.ts';

/** Flag and environment variable of each port; its default is the real product's (DEFAULT_PORTS). */
const PORT_SETTINGS: Array<{ key: keyof SandboxPorts; flag: string; env: string; what: string }> = [
  { key: 'kongAdmin', flag: '--kong-admin-port', env: 'KONG_ADMIN_PORT', what: 'Kong Admin API' },
  { key: 'kongPages', flag: '--kong-portal-port', env: 'KONG_PORTAL_PORT', what: 'Kong portal pages' },
  { key: 'kongPortalApi', flag: '--kong-portal-api-port', env: 'KONG_PORTAL_API_PORT', what: 'Kong portal API' },
  { key: 'kongProxy', flag: '--kong-proxy-port', env: 'KONG_PROXY_PORT', what: 'Kong proxy' },
  { key: 'stripe', flag: '--stripe-port', env: 'STRIPE_EMULATOR_PORT', what: 'Stripe emulator' },
  { key: 'moesif', flag: '--moesif-port', env: 'MOESIF_EMULATOR_PORT', what: 'Moesif emulator' },
  { key: 'provisioner', flag: '--provisioner-port', env: 'PROVISIONER_PORT', what: 'provisioner' },
  { key: 'aws', flag: '--aws-port', env: 'AWS_EMULATOR_PORT', what: 'AWS API Gateway emulator (--gateway aws; the SDK endpoint)' },
  { key: 'awsInvoke', flag: '--aws-invoke-port', env: 'AWS_EMULATOR_INVOKE_PORT', what: 'AWS API Gateway invoke URL (--gateway aws; x-api-key calls)' },
];

function port(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${flag}: "${value}" is not a port number (0-65535; 0 picks a free port)`);
    return n;
  };
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag}: "${value}" must be a number >= 0`);
    return n;
  };
}

function serviceList(value: string): SandboxService[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SANDBOX_SERVICES as readonly string[]).includes(n));
  if (unknown.length || names.length === 0)
    throw new InvalidArgumentError(`--services: unknown ${unknown.join(', ') || '(empty)'}; choose from ${SANDBOX_SERVICES.join(',')}`);
  return names as SandboxService[];
}

function program(): Command {
  const command = new Command('start')
    .description('Run the local sandbox: Kong (admin, portal pages, portal API, proxy), Stripe and Moesif emulators and the provisioner, all on 127.0.0.1 (--gateway aws: an AWS API Gateway emulator instead of Kong).')
    .option('--services <list>', `services to start, comma-separated (${SANDBOX_SERVICES.join(',')})`, serviceList)
    .addOption(new Option('--stripe <mode>', 'emulator, or real = Stripe test mode with STRIPE_SECRET_KEY').choices(['emulator', 'real']).default('emulator'))
    .option('--plans <file>', 'plans file (default: PLANS_FILE, else plans.example.json)')
    .option('--no-plan-field', 'no plan picker: do not give the workspace a `plan` meta field')
    .option('--stripe-latency-ms <ms>', 'Stripe emulator latency per call', nonNegative('--stripe-latency-ms'), 0)
    .option('--stripe-write-limit <n>', 'Stripe emulator writes per second before 429 (Stripe test mode: 25; 0 = unlimited)', nonNegative('--stripe-write-limit'), 0)
    .option('--moesif-latency-ms <ms>', 'Moesif emulator latency per call', nonNegative('--moesif-latency-ms'), 0)
    .addOption(new Option('--mode <mode>', 'portal (legacy Dev Portal) or hosted (Kong 3.5+/OSS/Konnect: the provisioner serves /signup)').choices(['portal', 'hosted']).default('portal'))
    .option('--konnect', 'hosted mode: reach the Kong emulator as a Konnect control plane (core-entities base, bearer token)', false)
    .addOption(new Option('--gateway <gateway>', 'hosted mode: kong, or aws = an AWS API Gateway emulator (API keys, usage plans, x-api-key) and no Kong emulator').choices(['kong', 'aws']).default('kong'))
    .addOption(new Option('--smtp-port <port>', 'hosted mode: sandbox SMTP catcher port').env('SMTP_CATCHER_PORT').default(2525).argParser(port('--smtp-port')))
    .addOption(new Option('--mailbox-port <port>', 'hosted mode: sandbox mailbox page port').env('MAILBOX_PORT').default(8025).argParser(port('--mailbox-port')));
  for (const setting of PORT_SETTINGS)
    command.addOption(new Option(`${setting.flag} <port>`, `${setting.what} port`).env(setting.env).default(DEFAULT_PORTS[setting.key]).argParser(port(setting.flag)));
  return command.addHelpText(
    'after',
    `
Examples:
  npm start                                   # everything, then open the register page it prints
  npm start -- --services stripe,moesif       # just the two emulators (for other tools and benches)
  npm start -- --mode hosted                  # no portal: hosted signup page, emails to a local mailbox
  npm start -- --mode hosted --konnect        # same, Kong reached as a Konnect control plane
  npm start -- --mode hosted --gateway aws    # same, keys and usage plans on an AWS API Gateway emulator
  npm start -- --stripe-latency-ms 50         # feel real Stripe latency
  STRIPE_SECRET_KEY=sk_test_... npm start -- --stripe real   # real Stripe test mode instead of the emulator
  KONG_PORTAL_PORT=9003 npm start             # move one port (each has a flag and an environment variable)

Everything is in memory and forgotten on Ctrl-C. Emulated: Kong Gateway Enterprise (Admin API, Dev Portal,
key-auth proxy, event hooks), AWS API Gateway (--gateway aws: API keys, usage plans, the x-api-key invoke URL),
Stripe and the Moesif Collector API. Real: the provisioner, sync, aws-setup and the bundle.`,
  );
}

interface StartFlags {
  services?: SandboxService[];
  stripe: 'emulator' | 'real';
  plans?: string;
  planField: boolean;
  stripeLatencyMs: number;
  stripeWriteLimit: number;
  moesifLatencyMs: number;
  mode: 'portal' | 'hosted';
  konnect: boolean;
  gateway: 'kong' | 'aws';
  smtpPort: number;
  mailboxPort: number;
  [port: string]: unknown;
}

/**
 * The ports `start` asks startSandbox for: each flag, else its environment variable, else the
 * well-known port. Always all of them, since startSandbox alone would pick free ports.
 */
export function requestedPorts(argv: string[]): SandboxPorts | undefined {
  const parsed = parseArgs<StartFlags>(program(), argv);
  return parsed.ok ? portsOf(parsed.options) : undefined;
}

function portsOf(flags: StartFlags): SandboxPorts {
  return Object.fromEntries(PORT_SETTINGS.map((s) => [s.key, flags[camel(s.flag)] as number])) as unknown as SandboxPorts;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseArgs<StartFlags>(program(), argv);
  if (!parsed.ok) return parsed.exitCode;
  const flags = parsed.options;
  const ports = portsOf(flags);

  console.log(pc.bold('kong-portal-monetization sandbox: starting…'));
  let sandbox;
  let mail: RunningMailCatcher | undefined;
  try {
    if (flags.mode === 'hosted') {
      mail = await startMailCatcher({ smtpPort: flags.smtpPort, httpPort: flags.mailboxPort });
      console.log(`  mail catcher       smtp ${mail.smtpUrl}  mailbox ${mail.mailboxUrl}`);
    }
    sandbox = await startSandbox({
      ...(mail ? { hosted: { smtpUrl: mail.smtpUrl, konnect: flags.konnect, gateway: flags.gateway } } : {}),
      ...(flags.services ? { services: flags.services } : {}),
      ports,
      stripe: flags.stripe,
      ...(flags.plans ? { plansFile: flags.plans } : {}),
      planField: flags.planField,
      stripeEmulator: { latencyMs: flags.stripeLatencyMs, writeRateLimit: flags.stripeWriteLimit || null },
      moesifEmulator: { latencyMs: flags.moesifLatencyMs },
      log: (line) => console.log(`  ${line}`),
    });
  } catch (error) {
    await mail?.close();
    return reportFatal(error);
  }

  console.log('');
  if (mail && sandbox.provisioner) {
    console.log(`${pc.green('ready')}: open ${pc.bold(`${sandbox.provisioner.url}/signup`)}, sign up, open the link in the mailbox ${pc.bold(mail.mailboxUrl)},`);
    console.log(`  save the test card 4242 4242 4242 4242 in Checkout and copy the key it shows once.`);
    if (sandbox.aws) console.log(`  call the API:     curl -H "x-api-key: <your key>" ${sandbox.aws.apiUrl}`);
    else if (sandbox.kong) console.log(`  call the API:     curl -H "apikey: <your key>" ${sandbox.kong.proxyUrl}/test-service`);
  } else if (sandbox.kong) {
    console.log(`${pc.green('ready')}: open ${pc.bold(`${sandbox.kong.portalUrl}/default/register`)}, pick a plan and sign up; then create an API key on the dashboard.`);
    console.log(`  call the API:     curl -H "apikey: <your key>" ${sandbox.kong.proxyUrl}/test-service`);
  } else console.log(`${pc.green('ready')}.`);
  if (sandbox.stripe && sandbox.moesif) {
    console.log('  see money move (after a few calls):');
    console.log(pc.dim(`    ${usageCommandLine(sandbox.env)}   # close the open usage window and report the calls to Stripe's meter`));
    console.log(pc.dim(`    curl -X POST ${sandbox.stripe.url}/_emulator/time/advance -H 'content-type: application/json' -d '{"seconds": 2764800}'   # 32 days pass: the period closes, the invoice is charged`));
    console.log(pc.dim(`    curl ${sandbox.stripe.url}/_emulator/invoices               # amount due, lines, status`));
    console.log(`  Stripe webhooks:  ${sandbox.stripe.url}/_emulator/webhooks/deliveries`);
  }
  if (sandbox.stripe) console.log(`  Stripe state:     ${sandbox.stripe.url}/_emulator/state`);
  if (sandbox.moesif) console.log(`  Moesif users:     ${sandbox.moesif.url}/_emulator/users`);
  if (sandbox.aws) console.log(`  AWS state:        ${sandbox.aws.emulator.endpoint}/_emulator/state   # API keys, usage plans and their keys`);
  // sync works on a portal workspace: with --gateway aws there is none, aws-setup is its counterpart.
  console.log(`  other commands (${sandbox.aws ? 'doctor, reconcile, aws-setup' : 'doctor, reconcile, sync'}) against it, in another shell:`);
  // The Stripe emulator's webhook secret opens nothing outside this machine: printed as is, so the line works as printed.
  const emulatorSecrets = sandbox.stripe && sandbox.env.STRIPE_WEBHOOK_SECRET ? [sandbox.env.STRIPE_WEBHOOK_SECRET] : [];
  console.log(pc.dim(`    ${exportLine(sandbox.env, emulatorSecrets)}`));
  console.log(pc.dim('Ctrl-C stops everything.'));

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('\nstopping…');
  await sandbox.close();
  await mail?.close();
  return 0;
}

/**
 * The `export …` line for other shells. The sandbox's fixed fake credentials and the secrets its
 * emulators made are safe to show; a real secret (the --stripe real key) appears as a reference to
 * the variable, never its value.
 */
/** The usage reporter run the "money moves" lines print: only the variables it reads, then the command. */
export function usageCommandLine(env: Record<string, string>): string {
  const names = ['STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'MOESIF_MANAGEMENT_TOKEN', 'MOESIF_MANAGEMENT_API_BASE', 'MOESIF_COMPANY_ID_SOURCE', 'USAGE_REPORTING'];
  const subset = Object.fromEntries(Object.entries(env).filter(([name]) => names.includes(name)));
  return `${exportLine(subset).replace(/^export /, '')} npm run --silent usage -- --once --close-open-window`;
}

export function exportLine(env: Record<string, string>, emulatorSecrets: readonly string[] = []): string {
  // Values with spaces or shell characters are single-quoted; "$NAME" references stay as they are.
  const shell = (value: string) => (/^"\$\w+"$/.test(value) || /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  return `export ${printableEnv(env, emulatorSecrets).map(([name, value]) => `${name}=${shell(value)}`).join(' ')}`;
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
