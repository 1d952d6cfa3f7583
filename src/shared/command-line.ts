/**
 * Commander glue shared by every command: parse without ever calling process.exit (so `run`
 * can return an exit code and tests can call it), and map --help / usage errors to exit codes.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';

type Parsed<T> = { ok: true; options: T } | { ok: false; exitCode: number };

/** Exit code 2 for usage errors (unknown flag, bad value), 0 after --help. */
export function parseArgs<T>(program: Command, argv: string[]): Parsed<T> {
  program.exitOverride().showHelpAfterError('(run with --help for usage)');
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const helpShown = error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version';
      return { ok: false, exitCode: helpShown ? 0 : 2 };
    }
    throw error;
  }
  return { ok: true, options: program.opts<T & Record<string, unknown>>() as T };
}

export function positiveInteger(name: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
    return Number(value);
  };
}

export { Command, InvalidArgumentError };
