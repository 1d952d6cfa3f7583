import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { packagePath } from '../../shared/package-root.ts';
import { freePort } from '../../dev/sandbox-wiring.ts';
import { run } from './start.ts';

// The "other commands" line `npm start` prints, pasted into a new shell exactly as printed, points
// doctor at this sandbox: every check passes, in every mode, with every port moved off its default.
const BIN = packagePath('scripts/portal-monetization.mjs');

interface Started {
  exportLine: string;
  output: string;
  stopped: Promise<number>;
}

/** `start` in this process until SIGINT; resolves once it printed the export line. */
async function startSandbox(argv: string[]): Promise<Started> {
  const lines: string[] = [];
  // Colours are on wherever CI is set (picocolors), so the line is read without its escape codes.
  const record = (...args: unknown[]) => void lines.push(stripVTControlCharacters(args.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(record);
  vi.spyOn(console, 'error').mockImplementation(record);
  const stopped = run(argv);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no export line within 30 s:\n${lines.join('\n')}`);
    const exportLine = lines.find((line) => line.trimStart().startsWith('export '));
    if (exportLine) return { exportLine: exportLine.trim(), output: lines.join('\n'), stopped };
    const early = await Promise.race([stopped.then((code) => `start exited ${code}`), new Promise<undefined>((resolve) => setTimeout(resolve, 50))]);
    if (early) throw new Error(`${early}:\n${lines.join('\n')}`);
  }
}

/** The line and a command in a fresh bash that has nothing else from this process's environment. */
function shell(exportLine: string, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${exportLine}\n${command}`], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function movedPorts(): Promise<string[]> {
  const flags = ['--kong-admin-port', '--kong-portal-port', '--kong-portal-api-port', '--kong-proxy-port', '--stripe-port', '--moesif-port', '--provisioner-port', '--smtp-port', '--mailbox-port', '--aws-port', '--aws-invoke-port'];
  const argv: string[] = [];
  for (const flag of flags) argv.push(flag, String(await freePort()));
  return argv;
}

afterEach(() => vi.restoreAllMocks());

const portOf = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1] as string;

describe.each([
  ['portal', []],
  ['hosted', ['--mode', 'hosted']],
  ['hosted, AWS', ['--mode', 'hosted', '--gateway', 'aws']],
])('npm start (%s mode, moved ports): the printed export line', (mode, modeFlags) => {
  it('works exactly as printed: doctor passes every check against this sandbox', async () => {
    const argv = [...modeFlags, ...(await movedPorts())];
    const provisionerPort = portOf(argv, '--provisioner-port');
    const sandbox = await startSandbox(argv);
    try {
      expect(sandbox.exportLine).toContain(`PROVISIONER_URL=http://127.0.0.1:${provisionerPort}`);
      if (mode === 'hosted, AWS') {
        // No Kong emulator, so no Kong URL or setting that would mean nothing; the AWS ports as moved.
        const kongPorts = ['--kong-admin-port', '--kong-portal-port', '--kong-portal-api-port', '--kong-proxy-port'].map((flag) => `:${portOf(argv, flag)}`);
        for (const port of kongPorts) expect(sandbox.output).not.toContain(port);
        expect(sandbox.output).not.toMatch(/kong emulator|apikey:/);
        expect(sandbox.exportLine).not.toMatch(/\bKONG_|PORTAL_ORIGINS/);
        expect(sandbox.exportLine).toContain(`AWS_ENDPOINT_URL_API_GATEWAY=http://127.0.0.1:${portOf(argv, '--aws-port')}`);
        expect(sandbox.output).toContain(`curl -H "x-api-key: <your key>" http://127.0.0.1:${portOf(argv, '--aws-invoke-port')}/`);
      }
      expect(sandbox.exportLine).not.toContain('"$');
      expect(sandbox.exportLine).toMatch(/STRIPE_WEBHOOK_SECRET=whsec_\w+/);
      const doctor = await shell(sandbox.exportLine, `exec node ${BIN} doctor`);
      expect(doctor.stderr).toBe('');
      expect(doctor.stdout).toMatch(/all \d+ checks passed/);
      expect(doctor.stdout).not.toContain(':8787');
      expect(doctor.code).toBe(0);
    } finally {
      process.emit('SIGINT');
      expect(await sandbox.stopped).toBe(0);
    }
  }, 60_000);
});
