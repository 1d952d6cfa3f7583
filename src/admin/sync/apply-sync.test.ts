// applyPlan's verification: a PUT is checked against Kong's own answer (no read-back GET), a
// DELETE is read back; a stored file that differs from the plan stops the sync with its code.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../shared/sha256.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongFile } from '../../kong/kong-types.ts';
import { applyPlan } from './apply-sync.ts';
import { Backups } from './backups.ts';
import type { PlannedFile } from './plan-sync.ts';

type FileClient = Pick<KongAdminClient, 'putFile' | 'getFile' | 'deleteFile'>;

/** A workspace in memory; `tamper` changes what a PUT stores (another writer, a proxy rewriting bodies). */
function memoryWorkspace(tamper: (contents: string) => string = (c) => c) {
  const files = new Map<string, KongFile>();
  const calls: string[] = [];
  const client: FileClient = {
    async putFile(path, contents) {
      calls.push(`PUT ${path}`);
      const stored = tamper(contents);
      const file = { id: path, path, contents: stored, checksum: sha256Hex(stored), created_at: 1 };
      files.set(path, file);
      return file;
    },
    async getFile(path) {
      calls.push(`GET ${path}`);
      return files.get(path);
    },
    async deleteFile(path) {
      calls.push(`DELETE ${path}`);
      files.delete(path);
    },
  };
  return { files, calls, client: client as KongAdminClient };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function backups() {
  dir = await mkdtemp(join(tmpdir(), 'apply-sync-'));
  return new Backups(dir, 'default', new Date(0));
}

const put = (path: string, after: string): PlannedFile => ({ path, role: 'script', action: 'create', before: undefined, after });

describe('applyPlan', () => {
  it('verifies a PUT from its answer: one request per written file', async () => {
    const { calls, client } = memoryWorkspace();
    const { writes } = await applyPlan(client, [put('themes/base/assets/js/a.js', 'a'), put('themes/base/assets/js/b.js', 'b')], { backups: await backups() });
    expect(writes).toBe(2);
    expect(calls).toEqual(['PUT themes/base/assets/js/a.js', 'PUT themes/base/assets/js/b.js']);
  });

  it('a DELETE is read back', async () => {
    const { calls, client, files } = memoryWorkspace();
    files.set('x.js', { id: 'x', path: 'x.js', contents: 'x', checksum: sha256Hex('x'), created_at: 1 });
    await applyPlan(client, [{ path: 'x.js', role: 'script', action: 'delete', before: 'x', after: undefined }], { backups: await backups() });
    expect(calls).toEqual(['DELETE x.js', 'GET x.js']);
  });

  it('stored contents other than planned stop the sync with sync_verify_failed, before the next file', async () => {
    const { calls, client } = memoryWorkspace((contents) => `${contents}\n/* changed */`);
    await expect(applyPlan(client, [put('a.js', 'a'), put('b.js', 'b')], { backups: await backups() })).rejects.toMatchObject({ code: 'sync_verify_failed' });
    expect(calls).toEqual(['PUT a.js']);
  });
});
