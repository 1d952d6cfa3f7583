/**
 * The exit status and last-resort message of a command that failed with an exception. Its own
 * module so that commands (start) and the dispatcher (main) both use it without importing each other.
 */
import pc from 'picocolors';
import pkg from '../../package.json' with { type: 'json' };
import { MonetizationError } from '../shared/errors.ts';

/** Exit status of bad input (a setting, a flag's value, the plans file): 2 in every command, as for usage errors. */
export const BAD_INPUT_EXIT = 2;
const BAD_INPUT_CODES = new Set(['invalid_setting', 'invalid_plans_file']);

/** The exit codes every command shares (sync adds its own above 2: SYNC_EXIT_CODES); docs/error-codes.md is generated from it. */
export const CLI_EXIT_CODES: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: 0, meaning: 'done (or --help shown)' },
  { code: 1, meaning: 'failed: a check failed (doctor), a developer could not be made whole (reconcile), theme/ or dist/ is stale (build --check), or an unexpected error' },
  { code: BAD_INPUT_EXIT, meaning: 'bad input: an unknown flag or command, a flag value, a setting (invalid_setting) or the plans file (invalid_plans_file); nothing was changed' },
];

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
