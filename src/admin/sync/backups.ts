/**
 * Local copies of every file before sync first changes it in a run, under
 * <root>/<workspace>/<timestamp>/<path>, plus backup.json listing each path and whether it existed
 * (a file that did not exist has no copy: restoring it means deleting it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export const DEFAULT_BACKUP_ROOT = '.kong-portal-monetization/backups';

interface BackupEntry {
  path: string;
  existed: boolean;
}

export class Backups {
  readonly dir: string;
  private readonly entries: BackupEntry[] = [];

  constructor(root: string, workspace: string, now: Date) {
    this.dir = resolve(root, workspace, now.toISOString().replace(/[:.]/g, '-'));
  }

  get saved(): readonly BackupEntry[] {
    return this.entries;
  }

  /** Keeps `contents` (undefined: the file did not exist) unless this path was saved already in this run. */
  async save(path: string, contents: string | undefined): Promise<void> {
    if (this.entries.some((entry) => entry.path === path)) return;
    if (path.split('/').some((part) => part === '..' || part === '')) throw new Error(`refusing to back up an unsafe path: ${path}`);
    if (contents !== undefined) {
      const target = join(this.dir, ...path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, contents, 'utf8');
    }
    this.entries.push({ path, existed: contents !== undefined });
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, 'backup.json'), `${JSON.stringify({ entries: this.entries }, null, 2)}\n`, 'utf8');
  }
}
