/**
 * Benchmark 6: cold start of the shipped CLI, `portal-monetization doctor --help`, from the
 * compiled dist/ and from the sources through tsx, beside Kong's own `portal --help`
 * (kong-portal-cli). Wall time from spawn to exit; max RSS as the child itself reports it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectBuild } from '../scripts/compiled-cli.mjs';
import type { BenchScenario } from './bench-types.ts';
import { runTimed } from './support/child-process.ts';
import { median, round } from './support/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'scripts/portal-monetization.mjs');
/** Goal: the compiled CLI within 1.2x of Kong's portal CLI, wall time and memory. */
const GOAL_RATIO = 1.2;
const RSS_MARK = '__bench_max_rss_kb=';
/** Preloaded into every measured process: prints its own peak RSS (getrusage) at exit. */
const REPORT_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\n${RSS_MARK}'+process.resourceUsage().maxRSS+'\\n'))`;

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
}

interface Sample {
  ms: number;
  rssKiB: number;
}

async function measure(entry: Case): Promise<Sample> {
  const run = await runTimed(process.execPath, ['--import', REPORT_RSS, ...entry.args], { cwd: ROOT, env: { ...process.env, ...entry.env } });
  const rss = run.stderr.match(new RegExp(`${RSS_MARK}(\\d+)`))?.[1];
  if (run.code !== 0 || !rss) throw new Error(`${entry.name} exited ${run.code}: ${run.stderr.slice(0, 300)}`);
  return { ms: run.ms, rssKiB: Number(rss) };
}

/** Builds dist/ when it does not match the sources (theme/ goes to a temp folder, untouched). */
async function ensureCompiled(log: (line: string) => void): Promise<void> {
  const build = inspectBuild(ROOT);
  if (build.entry) return;
  log(`building dist/ first: ${build.stale}`);
  const scratch = await mkdtemp(join(tmpdir(), 'pm-bench-theme-'));
  try {
    const run = await runTimed(process.execPath, [BIN, 'build', '--out', scratch], { cwd: ROOT, env: process.env });
    if (run.code !== 0) throw new Error(`npm run build failed: ${run.stderr.slice(0, 300)}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export const coldStartScenario: BenchScenario = {
  name: 'coldstart',
  summary: 'doctor --help from dist/ and from sources, beside Kong portal --help',
  async run({ quick, log }) {
    await ensureCompiled(log);
    const portalBin = join(dirname(createRequire(import.meta.url).resolve('kong-portal-cli/package.json')), 'bin/src/portal.js');
    const cases: Case[] = [
      { name: 'compiled', args: [BIN, 'doctor', '--help'], env: { PORTAL_MONETIZATION_CODE: 'compiled' } },
      { name: 'sources', args: [BIN, 'doctor', '--help'], env: { PORTAL_MONETIZATION_CODE: 'sources' } },
      { name: 'kong_portal', args: [portalBin, '--help'] },
    ];
    const runs = quick ? 3 : 5;
    const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
    for (const entry of cases) await measure(entry); // warm the file cache once
    // Interleaved, so a busy moment on the machine hits every case alike.
    for (let i = 0; i < runs; i++) for (const entry of cases) samples.get(entry.name)?.push(await measure(entry));

    const wall = (name: string) => round(median((samples.get(name) ?? []).map((s) => s.ms)));
    const rssMiB = (name: string) => round(median((samples.get(name) ?? []).map((s) => s.rssKiB)) / 1024);
    const wallRatio = round(wall('compiled') / wall('kong_portal'), 2);
    const rssRatio = round(rssMiB('compiled') / rssMiB('kong_portal'), 2);
    log(`compiled ${wall('compiled')} ms ${rssMiB('compiled')} MiB; sources ${wall('sources')} ms; kong portal ${wall('kong_portal')} ms`);
    return [
      {
        id: 'cold-start',
        title: `Cold start: portal-monetization doctor --help vs Kong's portal --help, median of ${runs}`,
        metrics: {
          compiled_wall_p50_ms: wall('compiled'),
          compiled_max_rss_p50_mib: rssMiB('compiled'),
          sources_wall_p50_ms: wall('sources'),
          sources_max_rss_p50_mib: rssMiB('sources'),
          kong_portal_wall_p50_ms: wall('kong_portal'),
          kong_portal_max_rss_p50_mib: rssMiB('kong_portal'),
          compiled_to_kong_wall_ratio: wallRatio,
          compiled_to_kong_rss_ratio: rssRatio,
        },
        parameters: { runs, warmup: 1, compiled: 'dist/ (npm run build), PORTAL_MONETIZATION_CODE=compiled', sources: 'tsx, PORTAL_MONETIZATION_CODE=sources' },
        goals: [
          { description: `compiled doctor --help wall time <= ${GOAL_RATIO}x Kong's portal --help`, met: wallRatio <= GOAL_RATIO },
          { description: `compiled doctor --help max RSS <= ${GOAL_RATIO}x Kong's portal --help`, met: rssRatio <= GOAL_RATIO },
        ],
        notes: ['wall: spawn to exit, node start-up included', 'max RSS: getrusage of the process itself, reported at exit by a preloaded one-liner'],
      },
    ];
  },
};
