/**
 * `npm run bench` (node --import tsx bench/cli.ts): runs the benchmarks in bench/ against the
 * sandbox emulators on free ports, prints a table and writes bench/results.json. Not part of npm
 * test, and not part of the shipped CLI: it needs dev-only packages (playwright-core).
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_RESULTS_FILE, formatResults, runBench, SCENARIO_NAMES, SCENARIOS } from './run-bench.ts';

interface BenchFlags {
  only?: string[];
  quick: boolean;
  out: string;
  dryRun: boolean;
}

const HELP_AFTER = `
Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`).join('\n')}

Every scenario starts its own emulators on free 127.0.0.1 ports (nothing else needs to run) and
runs alone: the figures are wall-clock times, so keep the machine otherwise idle.
A full run takes a few minutes (burst and reconcile are paced by the 25 writes/s Stripe limit).

Examples:
  $ npm run bench                                   # everything, writes bench/results.json
  $ npm run bench -- --quick                        # smaller counts: a smoke run in well under a minute
  $ npm run bench -- --only signup,bundle           # some scenarios; other results in the file are kept
  $ npm run bench -- --out /tmp/bench.json
  $ npm run bench -- --quick --only bundle --dry-run  # print only, write nothing

Exit status: 0 when every scenario ran (a missed goal is reported, not an error), 1 when one failed, 2 on bad options.`;

function parseOnly(value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`list one or more of: ${SCENARIO_NAMES.join(', ')}`);
  const unknown = names.filter((name) => !SCENARIO_NAMES.includes(name));
  if (unknown.length) throw new InvalidArgumentError(`unknown scenario ${unknown.map((n) => `"${n.slice(0, 40)}"`).join(', ')}; use ${SCENARIO_NAMES.join(', ')}`);
  return names;
}

function parseOut(value: string): string {
  if (!/\.json$/i.test(value) || value.length > 1024 || value.includes('\0')) throw new InvalidArgumentError('give a path to a .json file');
  return value;
}

export async function run(argv: string[]): Promise<number> {
  const program = new Command('npm run bench --')
    .description('Run the benchmarks against the sandbox emulators; print a table and write the figures as JSON.')
    .option('--only <names>', `comma-separated scenarios (default: all): ${SCENARIO_NAMES.join(', ')}`, parseOnly)
    .option('--quick', 'smaller counts for a smoke run', false)
    .option('--out <file>', 'results file (JSON)', parseOut, DEFAULT_RESULTS_FILE)
    .option('--dry-run', 'run and print the table; do not write the results file', false)
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const flags = program.opts<BenchFlags>();
  const out = resolve(flags.out);
  const { file, ran, failures } = await runBench({
    ...(flags.only ? { only: flags.only } : {}),
    quick: flags.quick,
    out,
    write: !flags.dryRun,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(`\n${formatResults(ran, file.machine)}\n`);
  if (flags.dryRun) console.log(`dry run: ${out} was not written`);
  else console.log(`results: ${out}${file.results.length > ran.length ? ` (${file.results.length - ran.length} earlier results kept)` : ''}`);
  for (const failure of failures) console.error(`error: scenario "${failure.scenario}" failed: ${failure.message}`);
  return failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2));
}
