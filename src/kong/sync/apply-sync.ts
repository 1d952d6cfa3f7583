/**
 * Carries out a plan, in its order: back up, write (PUT upsert or DELETE; the client retries 5xx
 * and network errors), read back and verify, one file at a time.
 */
import { MonetizationError } from '../../shared/errors.ts';
import type { KongAdminClient } from '../kong-admin-client.ts';
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
      if (file.after === undefined) await client.deleteFile(file.path);
      else await client.putFile(file.path, file.after);
      writes++;
      await verify(client, file);
    }
    results.push({ path: file.path, role: file.role, action: DONE[file.action] });
  }
  return { results, writes };
}

async function verify(client: KongAdminClient, file: PlannedFile): Promise<void> {
  const stored = await client.getFile(file.path);
  const ok = file.after === undefined ? stored === undefined : stored !== undefined && sha256Hex(stored.contents) === sha256Hex(file.after);
  if (!ok)
    throw new MonetizationError(
      'sync_verify_failed',
      `${file.path} did not read back as written (${file.after === undefined ? 'still there after DELETE' : stored ? 'different contents' : 'missing after PUT'})`,
      { hint: 'another writer may be changing the workspace (kong-portal-cli watch, Kong Manager editor); stop it and run sync again' },
    );
}
