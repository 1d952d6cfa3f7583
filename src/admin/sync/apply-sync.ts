/**
 * Carries out a plan, in its order: back up, write (PUT upsert or DELETE; the client retries 5xx
 * and network errors), verify, one file at a time. A PUT is verified from its own answer: Kong
 * answers an upsert with the file as stored (contents and checksum), so a second GET would read
 * the same row again. A DELETE answers 204 with no body, so it is still read back.
 */
import { MonetizationError } from '../../shared/errors.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongFile } from '../../kong/kong-types.ts';
import type { Backups } from './backups.ts';
import type { FileRole, PlannedFile } from './plan-sync.ts';
import { sha256Hex } from '../../shared/sha256.ts';

export type FileAction = 'created' | 'updated' | 'unchanged' | 'removed';

export interface FileResult {
  path: string;
  role: FileRole;
  action: FileAction;
}

export const DONE: Record<PlannedFile['action'], FileAction> = { create: 'created', update: 'updated', delete: 'removed', unchanged: 'unchanged' };

export async function applyPlan(
  client: KongAdminClient,
  plan: readonly PlannedFile[],
  options: { backups: Backups; onWrite?: (file: PlannedFile) => void },
): Promise<{ results: FileResult[]; writes: number }> {
  const results: FileResult[] = [];
  let writes = 0;
  for (const file of plan) {
    if (file.action !== 'unchanged') {
      await options.backups.save(file.path, file.before);
      options.onWrite?.(file);
      let stored: KongFile | undefined;
      if (file.after === undefined) {
        await client.deleteFile(file.path);
        stored = await client.getFile(file.path);
      } else stored = await client.putFile(file.path, file.after);
      writes++;
      verify(file, stored);
    }
    results.push({ path: file.path, role: file.role, action: DONE[file.action] });
  }
  return { results, writes };
}

/** The file as Kong holds it after the write (the PUT's answer, or a read after a DELETE) must be what was planned. */
function verify(file: PlannedFile, stored: KongFile | undefined): void {
  const expected = file.after === undefined ? undefined : sha256Hex(file.after);
  // The checksum is Kong's own sha256 of what it stored; a stored file must carry our contents and agree with it.
  const ok =
    file.after === undefined
      ? stored === undefined
      : stored?.path === file.path && typeof stored.contents === 'string' && sha256Hex(stored.contents) === expected && (!stored.checksum || stored.checksum === expected);
  if (!ok)
    throw new MonetizationError(
      'sync_verify_failed',
      `${file.path} did not read back as written (${file.after === undefined ? 'still there after DELETE' : stored ? 'different contents' : 'missing after PUT'})`,
      { hint: 'another writer may be changing the workspace (kong-portal-cli watch, Kong Manager editor); stop it and run sync again' },
    );
}
