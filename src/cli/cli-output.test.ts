import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { runDoctorCommand } from '../admin/doctor/doctor-command.ts';
import { DOCTOR_CHECKS } from '../admin/doctor/doctor-checks.ts';
import { HOSTED_DOCTOR_CHECKS } from '../admin/doctor/hosted-checks.ts';
import { AWS_DOCTOR_CHECKS } from '../admin/doctor/aws-checks.ts';
import { packagePath } from '../shared/package-root.ts';
import { COMMANDS as DISPATCHED } from './main.ts';
import { missingOptionalPackage, reportFatal } from './report-error.ts';

const BIN = packagePath('scripts/portal-monetization.mjs');
// Every command the bin dispatches (usage included), from its own table.
const COMMANDS = Object.keys(DISPATCHED);

/** `portal-monetization <argv>` whose reader closes the pipe before reading anything (`| head -0`). */
function withClosedStdout(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a reader that stops early (`build --help | head -2`)', () => {
  it.each(COMMANDS)('%s --help ends quietly, no EPIPE stack trace', async (command) => {
    const result = await withClosedStdout([command, '--help']);
    expect(result.stderr).not.toMatch(/EPIPE|Error/);
    expect(result.code).toBe(0);
  });
});

/** What a command prints for --help (commander writes to process.stdout). */
async function helpOf(command: () => Promise<number>): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
  try {
    expect(await command()).toBe(0);
  } finally {
    vi.restoreAllMocks();
  }
  return lines.join('');
}

describe('help texts', () => {
  it('doctor --help names every check it runs, in every mode', async () => {
    const help = await helpOf(() => runDoctorCommand(['--help']));
    const names = [...new Set([...DOCTOR_CHECKS, ...HOSTED_DOCTOR_CHECKS, ...AWS_DOCTOR_CHECKS].map((check) => check.name))];
    expect(names.length).toBeGreaterThanOrEqual(16);
    for (const name of names) expect(help, name).toContain(name);
  });

  it('build --help says it writes dist/, and that building again is safe', async () => {
    const { run } = await import('./commands/build.ts');
    const help = await helpOf(() => run(['--help']));
    expect(help.split('\n').slice(0, 4).join(' ')).toContain('dist/');
    expect(help).toContain('Building again, from\nthe sources or from dist/ itself, gives the same dist/');
  });
});

describe('an optional (sandbox) package left out of the install', () => {
  const notFound = (message: string, code = 'ERR_MODULE_NOT_FOUND') => Object.assign(new Error(message), { code });

  it('is named with what to do; a missing required package or another error is not', () => {
    const error = missingOptionalPackage(notFound("Cannot find package 'smtp-server' imported from /srv/app/dist/cli/start-X.js"));
    expect(error?.code).toBe('optional_package_missing');
    expect(error?.describe()).toContain('needs the package smtp-server, which this install left out');
    expect(missingOptionalPackage(notFound("Cannot find module 'jquery/dist/jquery.min.js'", 'MODULE_NOT_FOUND'))?.message).toContain('jquery');
    expect(missingOptionalPackage(notFound("Cannot find package 'stripe' imported from x"))).toBeUndefined();
    expect(missingOptionalPackage(new Error("Cannot find package 'smtp-server'"))).toBeUndefined();
  });

  it('reportFatal prints it as a fix, exit 1', () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    expect(reportFatal(notFound("Cannot find package 'mailparser' imported from x"))).toBe(1);
    vi.restoreAllMocks();
    expect(errors.join('\n')).toMatch(/\[optional_package_missing\].*mailparser[\s\S]*fix: install the optional packages/);
  });
});
