// `portal-monetization usage`: see src/admin/usage.
import { runUsageCommand } from '../../admin/usage/usage-command.ts';

export function run(argv: string[]): Promise<number> {
  return runUsageCommand(argv);
}
