/**
 * `portal-monetization provisioner` (npm run provisioner): validates the environment, starts the
 * provisioner and drains it on SIGTERM / SIGINT before exiting.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { HOSTED_SIGNUP_VARIABLES } from '../../provisioner/settings/hosted-settings.ts';
import { loadProvisionerSettings, PROVISIONER_VARIABLES } from '../../provisioner/settings/settings.ts';

function variableLines(variables: ReadonlyArray<{ name: string; default: string; description: string }>): string[] {
  const width = Math.max(...variables.map((v) => v.name.length));
  return variables.map((v) => `  ${v.name.padEnd(width)}  ${v.description}\n  ${' '.repeat(width)}  default: ${v.default}`);
}

function environmentHelp(): string {
  return [
    '',
    'Environment (validated at start; a bad value stops it and names the variable):',
    ...variableLines(PROVISIONER_VARIABLES),
    '',
    'Hosted signup (SIGNUP_MODE=hosted; Kong 3.5+, OSS, Konnect):',
    ...variableLines(HOSTED_SIGNUP_VARIABLES),
    '',
    'Endpoints: GET /healthz, GET /readyz ({status}; details with READYZ_TOKEN), GET /plans, POST /provision {"email","developer_id"}, POST /kong/events',
    '',
    'Examples:',
    '  STRIPE_SECRET_KEY=sk_test_... MOESIF_APPLICATION_ID=... KONG_ADMIN_URL=http://127.0.0.1:8001 \\',
    '  PLANS_FILE=plans.json PORTAL_ORIGINS=http://localhost:8003 npm run provisioner',
    '  npm run provisioner -- --port 9000',
    '  curl -s -X POST http://127.0.0.1:8787/provision -H "content-type: application/json" -d \'{"email":"ada@example.com","developer_id":"<developer.id from Kong>"}\'',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const program = new Command('portal-monetization provisioner')
    .description('Run the provisioner: the server that holds the Stripe key and Kong token and makes each new portal developer one Stripe customer, one metered subscription and a Moesif user and company.')
    .addOption(new Option('--port <port>', 'HTTP port (overrides PROVISIONER_PORT; default 8787)').argParser(parsePort))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addHelpText('after', environmentHelp())
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const options = program.opts<{ port?: number; host: string }>();

  const settings = await loadProvisionerSettings(process.env);
  // Loaded after parsing: --help needs only the variable list, not the server and the Stripe SDK.
  const { startProvisioner } = await import('../../provisioner/server.ts');
  const running = await startProvisioner(settings, { ...(options.port === undefined ? {} : { port: options.port }), host: options.host });
  console.error(`provisioner listening on ${running.url} (workspace "${settings.kong.workspace}", Stripe ${settings.stripe.mode} mode${settings.stripe.apiBase ? ` at ${settings.stripe.apiBase.origin}` : ''})`);
  if (settings.portalOrigins.length === 0) console.error('warning: PORTAL_ORIGINS is empty, so no portal page can call POST /provision from a browser');
  if (!settings.eventHookSecret) console.error('note: KONG_EVENT_HOOK_SECRET is not set, so POST /kong/events is off');

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      console.error(`${signal}: draining in-flight requests...`);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      running.drain().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('use a port number 0-65535');
  return port;
}
