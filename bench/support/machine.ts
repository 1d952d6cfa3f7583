/** The machine a run came from: figures mean little without it. */
import { cpus, freemem, platform, release, totalmem, arch } from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  node: string;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  const gib = (bytes: number) => Math.round((bytes / 1024 ** 3) * 10) / 10;
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}
