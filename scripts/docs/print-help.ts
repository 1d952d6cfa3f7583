/**
 * Prints `portal-monetization <command> --help` for each command named on the command line, each
 * between marker lines, in one process (one start-up instead of one per command). Run by
 * sections.ts with a pipe as stdout, so commander wraps at its default 80 columns.
 */
import { runCli } from '../../src/cli/main.ts';

// The same marker as sections.ts's HELP_MARKER.
const HELP_MARKER = '\u0000help:';

for (const command of process.argv.slice(2)) {
  process.stdout.write(`${HELP_MARKER}${command}\n`);
  const code = await runCli([command, '--help']);
  if (code !== 0) throw new Error(`portal-monetization ${command} --help exited ${code}`);
}
