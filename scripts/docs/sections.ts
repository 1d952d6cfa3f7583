/**
 * The generated parts of docs/*.md, each made from the code's own list: settings
 * (PROVISIONER_VARIABLES, HOSTED_SIGNUP_VARIABLES), exit codes (CLI_EXIT_CODES, SYNC_EXIT_CODES),
 * error codes (ERROR_CODES), the benchmark figures (bench/results.json) and each command's --help.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult, MetricValue } from '../../bench/bench-types.ts';
import { COMMANDS as CLI_COMMANDS } from '../../src/cli/main.ts';
import { CLI_EXIT_CODES } from '../../src/cli/report-error.ts';
import { SYNC_EXIT_CODES } from '../../src/admin/sync/sync-errors.ts';
import { HOSTED_SIGNUP_VARIABLES } from '../../src/provisioner/settings/hosted-settings.ts';
import { USAGE_VARIABLES } from '../../src/provisioner/usage/usage-settings.ts';
import { PROVISIONER_VARIABLES } from '../../src/provisioner/settings/settings.ts';
import { ERROR_CODES, ERROR_SURFACES, type ErrorSurface } from '../../src/shared/error-codes.ts';
import { code, markdownTable } from './markdown.ts';

const HELP_MARKER = '\u0000help:';

/** Every command of the bin, from its own dispatch table. */
const COMMANDS: readonly string[] = Object.keys(CLI_COMMANDS);

type Variable = { name: string; default: string; description: string };

function variableTable(variables: readonly Variable[]): string {
  // "(none: ...)" and "(required)" are notes, "20 (test keys) / ..." a phrase; a single word is a value to type.
  const defaultCell = (value: string) => (/^\(.*\)$/.test(value) ? value.slice(1, -1) : /\s/.test(value) ? value : code(value));
  return markdownTable(['Variable', 'Default', 'Meaning'], variables.map((v) => [code(v.name), defaultCell(v.default), v.description]));
}

function exitCodeTable(codes: ReadonlyArray<{ code: number; meaning: string }>): string {
  return markdownTable(['Exit code', 'Meaning'], codes.map((entry) => [String(entry.code), entry.meaning]));
}

function errorCodeTables(): string {
  const surfaces = Object.keys(ERROR_SURFACES) as ErrorSurface[];
  return surfaces
    .map((surface) => {
      const entries = ERROR_CODES.filter((entry) => entry.surface === surface);
      const withStatus = entries.some((entry) => entry.status !== undefined);
      const rows = entries.map((entry) => [code(entry.code), ...(withStatus ? [entry.status === undefined ? '' : String(entry.status)] : []), entry.meaning]);
      return `### ${ERROR_SURFACES[surface]}\n\n${markdownTable(['Code', ...(withStatus ? ['Status'] : []), 'Meaning'], rows)}`;
    })
    .join('\n\n');
}

interface ResultsFile {
  machine: { cpuModel: string; cpuCount: number; memoryGiB: number; os: string; node: string };
  results: BenchResult[];
}

function formatValue(value: MetricValue): string {
  if (value === null) return '-';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return String(value);
}

const goalsOf = (result: BenchResult) =>
  result.goals.length === 0 ? 'none' : result.goals.map((goal) => `${goal.met === null ? 'n/a' : goal.met ? 'met' : 'MISSED'}: ${goal.description}`).join('; ');

/** A summary table, then each benchmark's figures, parameters and notes, exactly as recorded. */
function performanceSection(root: string): string {
  const file = JSON.parse(readFileSync(join(root, 'bench/results.json'), 'utf8')) as ResultsFile;
  const { machine } = file;
  const summary = markdownTable(
    ['Benchmark', 'What', 'Goals', 'Measured'],
    file.results.map((result) => [code(result.id), result.title, goalsOf(result), result.ranAt.slice(0, 10)]),
  );
  const details = file.results.map((result) => {
    const parameters = Object.entries(result.parameters).map(([name, value]) => `${name} ${formatValue(value)}`).join(', ');
    const figures = markdownTable(['Figure', 'Value'], Object.entries(result.metrics).map(([name, value]) => [code(name), formatValue(value)]));
    const notes = result.notes.map((note) => `- ${note}`).join('\n');
    return [`### ${code(result.id)}: ${result.title}`, '', `Parameters: ${parameters || 'none'}. Measured ${result.ranAt}.`, '', figures, ...(notes ? ['', notes] : [])].join('\n');
  });
  return [
    `Machine recorded in bench/results.json: ${machine.cpuCount} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}. Benchmarks run on other days may come from another machine of the same size: each has its date.`,
    '',
    summary,
    '',
    ...details.flatMap((detail) => [detail, '']),
  ].join('\n');
}

let helpTexts: Map<string, string> | undefined;

/** `portal-monetization <command> --help` of every command, from the sources, with nothing from the caller's environment. */
function commandHelp(root: string, command: string): string {
  if (!helpTexts) {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' };
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/docs/print-help.ts', ...COMMANDS], { cwd: root, env, encoding: 'utf8' });
    helpTexts = new Map(output.split(HELP_MARKER).slice(1).map((chunk) => [chunk.slice(0, chunk.indexOf('\n')), chunk.slice(chunk.indexOf('\n') + 1)]));
  }
  const text = helpTexts.get(command);
  if (text === undefined) throw new Error(`no --help output for ${command}`);
  return ['```text', text.trimEnd(), '```'].join('\n');
}

/** The body of one generated section, or undefined for a name no generator makes. */
export function renderSection(root: string, name: string): string | undefined {
  switch (name) {
    case 'provisioner-settings':
      return variableTable(PROVISIONER_VARIABLES);
    case 'hosted-signup-settings':
      return variableTable(HOSTED_SIGNUP_VARIABLES);
    case 'usage-settings':
      return variableTable(USAGE_VARIABLES);
    case 'exit-codes':
      return exitCodeTable(CLI_EXIT_CODES);
    case 'sync-exit-codes':
      return exitCodeTable(SYNC_EXIT_CODES);
    case 'error-codes':
      return errorCodeTables();
    case 'performance':
      return performanceSection(root);
  }
  const command = /^help-(.+)$/.exec(name)?.[1];
  return command && COMMANDS.includes(command) ? commandHelp(root, command) : undefined;
}
