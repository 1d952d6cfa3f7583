/**
 * The benchmark runner behind `npm run bench` (bench/cli.ts): runs the chosen scenarios one after
 * another (they share two cores, so never in parallel), merges their results into results.json
 * with the machine they ran on, and renders the table printed at the end.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatTable } from '../src/admin/shared/text-table.ts';
import type { BenchResult, BenchScenario, MetricValue } from './bench-types.ts';
import { bundleSizeScenario } from './bundle-size.ts';
import { burstScenario } from './burst.ts';
import { coldStartScenario } from './cold-start.ts';
import { reconcileScenario } from './reconcile.ts';
import { reconcileScaleScenario } from './reconcile-scale.ts';
import { signupScenario } from './signup.ts';
import { machineFacts, type MachineFacts } from './support/machine.ts';
import { syncScenario } from './sync.ts';
import { webhooksScenario } from './webhooks.ts';
import { usageReportingScenario } from './usage-reporting.ts';
import { planLimitsScenario } from './plan-limits.ts';

/** In the order; `--only` picks by name. */
export const SCENARIOS: readonly BenchScenario[] = [signupScenario, bundleSizeScenario, burstScenario, reconcileScenario, reconcileScaleScenario, syncScenario, coldStartScenario, webhooksScenario, usageReportingScenario, planLimitsScenario];
export const SCENARIO_NAMES = SCENARIOS.map((scenario) => scenario.name);
export const DEFAULT_RESULTS_FILE = 'bench/results.json';

interface BenchRunOptions {
  only?: readonly string[];
  quick?: boolean;
  /** Where to write; results of scenarios not run this time are kept from the existing file. */
  out: string;
  /** false: run and report, leave the results file alone (`--dry-run`). Default true. */
  write?: boolean;
  log?: (line: string) => void;
}

interface BenchFile {
  /** Newest run's machine; each result also records when it ran. */
  machine: MachineFacts;
  mode: 'full' | 'quick';
  updatedAt: string;
  reproduce: string;
  results: BenchResult[];
}

interface BenchRun {
  file: BenchFile;
  /** Results of this run only. */
  ran: BenchResult[];
  failures: Array<{ scenario: string; message: string }>;
}

export async function runBench(options: BenchRunOptions): Promise<BenchRun> {
  const log = options.log ?? (() => {});
  const quick = options.quick === true;
  const chosen = options.only?.length ? SCENARIOS.filter((s) => options.only?.includes(s.name)) : SCENARIOS;
  const ran: BenchResult[] = [];
  const failures: BenchRun['failures'] = [];

  for (const scenario of chosen) {
    log(`== ${scenario.name}: ${scenario.summary}${quick ? ' (quick)' : ''}`);
    const started = performance.now();
    try {
      const results = await scenario.run({ quick, log: (line) => log(`   ${line}`) });
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      for (const result of results) ran.push({ ...result, seconds, ranAt: new Date().toISOString() });
      log(`   done in ${seconds} s`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ scenario: scenario.name, message });
      log(`   FAILED: ${message}`);
    }
  }

  const previous = await readResults(options.out);
  const kept = (previous?.mode === (quick ? 'quick' : 'full') ? previous.results : []).filter((old) => !ran.some((r) => r.id === old.id));
  const order = (result: BenchResult) => SCENARIOS.findIndex((s) => result.id === s.name || result.id.startsWith(`${s.name}-`)) * 100;
  const file: BenchFile = {
    machine: machineFacts(),
    mode: quick ? 'quick' : 'full',
    updatedAt: new Date().toISOString(),
    reproduce: `npm run bench${quick ? ' -- --quick' : ''}`,
    results: [...kept, ...ran].sort((a, b) => order(a) - order(b)),
  };
  if (options.write !== false) {
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(file, null, 2)}\n`, 'utf8');
  }
  return { file, ran, failures };
}

async function readResults(path: string): Promise<BenchFile | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BenchFile;
  } catch {
    return undefined;
  }
}

function formatValue(value: MetricValue): string {
  if (value === null) return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return String(value);
}

/** One row per figure, then the goals with pass/miss, then the machine. */
export function formatResults(results: readonly BenchResult[], machine: MachineFacts): string {
  const rows: string[][] = [];
  for (const result of results) {
    Object.entries(result.metrics).forEach(([name, value], i) => rows.push([i === 0 ? result.id : '', name, formatValue(value)]));
  }
  const goals = results.flatMap((result) =>
    result.goals.map((goal) => [result.id, goal.met === null ? 'n/a' : goal.met ? 'met' : 'MISSED', goal.description]),
  );
  return [
    formatTable(['benchmark', 'figure', 'value'], rows),
    '',
    goals.length ? formatTable(['benchmark', 'goal', 'description'], goals) : 'no goals judged',
    '',
    `machine: ${machine.cpuCount} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`,
  ].join('\n');
}
