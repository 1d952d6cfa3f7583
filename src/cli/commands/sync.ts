// `portal-monetization sync`: options, work and output live in src/admin/sync.
import { runSyncCommand } from '../../admin/sync/sync-command.ts';

export function run(argv: string[]): Promise<number> {
  return runSyncCommand(argv);
}
