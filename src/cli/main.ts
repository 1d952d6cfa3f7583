/**
 * `portal-monetization <command>`: one bin, one file per command under ./commands. Each command
 * module exports `run(argv)` and returns an exit code; it owns its own --help (commander).
 */
import pc from 'picocolors';
import pkg from '../../package.json' with { type: 'json' };
import { MonetizationError } from '../shared/errors.ts';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, CommandEntry> = {
  start: { summary: 'run the local sandbox: Kong, Stripe and Moesif emulators plus the provisioner', load: () => import('./commands/start.ts') },
  build: { summary: 'build theme/: monetization.js, the two splice blocks and the manifest', load: () => import('./commands/build.ts') },
  provisioner: { summary: 'run the provisioner (holds the Stripe key and Kong token)', load: () => import('./commands/provisioner.ts') },
  sync: { summary: 'install, upgrade or uninstall the bundle in a Kong portal workspace', load: () => import('./commands/sync.ts') },
  'stripe-setup': { summary: 'create or update the Stripe products, meters and prices from a plans file', load: () => import('./commands/stripe-setup.ts') },
  reconcile: { summary: 'make every provisionable Kong developer whole in Stripe and Moesif', load: () => import('./commands/reconcile.ts') },
  doctor: { summary: 'check the whole installation, one line per check', load: () => import('./commands/doctor.ts') },
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
    'Through npm: npm start, npm run sync -- --help, npm run provisioner, npm run stripe:setup, npm run reconcile, npm run doctor.',
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
    return await command.run(rest);
  } catch (error) {
    return reportFatal(error);
  }
}

/** Exit status of bad input (a setting, a flag's value, the plans file): 2 in every command, as for usage errors. */
export const BAD_INPUT_EXIT = 2;
const BAD_INPUT_CODES = new Set(['invalid_setting', 'invalid_plans_file']);

/**
 * A package from "optionalDependencies" (the sandbox's: smtp-server, mailparser, jquery) that this
 * install left out (npm ci --omit=optional), as an error saying which and what to do.
 */
export function missingOptionalPackage(error: unknown): MonetizationError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(error instanceof Error ? error.message : '')?.[1];
  const parts = specifier?.split('/') ?? [];
  const name = specifier?.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  if (!name || !(name in pkg.optionalDependencies)) return undefined;
  return new MonetizationError('optional_package_missing', `this command needs the package ${name}, which this install left out (it is an optional dependency, used by the sandbox only)`, {
    hint: 'install the optional packages with `npm ci --omit=dev` (without --omit=optional); the provisioner, sync, reconcile, doctor and stripe-setup do not need them',
    cause: error,
  });
}

/** Last-resort reporting: a MonetizationError prints its message and fix; anything else its message only. */
export function reportFatal(failure: unknown): number {
  const error = missingOptionalPackage(failure) ?? failure;
  if (error instanceof MonetizationError) {
    console.error(`${pc.red('error')} [${error.code}]: ${error.describe()}`);
    return BAD_INPUT_CODES.has(error.code) ? BAD_INPUT_EXIT : 1;
  }
  console.error(`${pc.red('error')}: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.DEBUG) console.error(error);
  return 1;
}
