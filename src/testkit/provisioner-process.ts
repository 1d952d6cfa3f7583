/**
 * The provisioner as a separate OS process (`portal-monetization provisioner --port 0`), so the
 * reliability suite can kill it for real (SIGKILL: no drain, no finally, no Moesif flush) in the
 * middle of provisioning a developer, then start a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../scripts/portal-monetization.mjs', import.meta.url));

export interface ProvisionerProcess {
  url: string;
  pid: number;
  /** SIGKILL, synchronously: safe to call from inside an emulator's request handler. */
  kill(): void;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Everything it printed on stderr (for failure messages). */
  output(): string;
}

export function spawnProvisioner(env: Record<string, string>, startTimeoutMs = 20_000): Promise<ProvisionerProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'provisioner', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the provisioner did not start within ${startTimeoutMs} ms:\n${stderr}`));
    }, startTimeoutMs);
    const exitedEarly = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the provisioner exited (${code}) before listening:\n${stderr}`));
    };
    child.once('exit', exitedEarly);
    let started = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (started) return;
      const match = /listening on (http:\/\/[^\s]+)/.exec(stderr);
      if (!match?.[1]) return;
      started = true;
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      resolve({
        url: match[1],
        pid: child.pid ?? -1,
        kill: () => void child.kill('SIGKILL'),
        exited,
        output: () => stderr,
      });
    });
  });
}
