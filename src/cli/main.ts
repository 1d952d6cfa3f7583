/**
 * `portal-monetization <command>`: one bin, one file per command under ./commands. Each command
 * module exports `run(argv)` and returns an exit code; it owns its own --help (commander). The
 * admin commands' files only forward to src/admin/<command>/<command>-command.ts, which parses,
 * works and prints: the CLI parses the command name and dispatches, nothing more.
 * A new command is one row here (loaded lazily: --help of one never loads another's packages)
 * and one file under ./commands.
 */
import pc from 'picocolors';
import { reportFatal } from './report-error.ts';
import { untilSettled } from './exit-guard.ts';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  start: { summary: 'run the local sandbox: Kong, Stripe and Moesif emulators plus the provisioner', load: () => import('./commands/start.ts') },
  build: { summary: 'build theme/: monetization.js, the two splice blocks and the manifest', load: () => import('./commands/build.ts') },
  provisioner: { summary: 'run the provisioner (holds the Stripe key and Kong token)', load: () => import('./commands/provisioner.ts') },
  sync: { summary: 'install, upgrade or uninstall the bundle in a Kong portal workspace', load: () => import('./commands/sync.ts') },
  'stripe-setup': { summary: 'create or update the Stripe products, meters and prices from a plans file', load: () => import('./commands/stripe-setup.ts') },
  reconcile: { summary: 'make every provisionable Kong developer whole in Stripe and Moesif', load: () => import('./commands/reconcile.ts') },
  'aws-setup': { summary: "make the AWS usage plans hold the plans file's rate limits and hard quotas (GATEWAY=aws)", load: () => import('./commands/aws-setup.ts') },
  doctor: { summary: 'check the whole installation, one line per check', load: () => import('./commands/doctor.ts') },
  usage: { summary: 'report billable calls from Moesif to Stripe meter events, exactly once (cron, backfill, --report)', load: () => import('./commands/usage.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return [
    'Usage: portal-monetization <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `portal-monetization <command> --help` for the options of one command.',
    'Through npm: npm start, npm run sync -- --help, npm run provisioner, npm run stripe:setup, npm run aws:setup, npm run reconcile, npm run doctor, npm run usage.',
  ].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    const { BUNDLE_VERSION } = await import('../shared/bundle-layout.ts');
    console.log(BUNDLE_VERSION);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`${pc.red('error')}: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await untilSettled(name, command.run(rest));
  } catch (error) {
    return reportFatal(error);
  }
}
