// `portal-monetization reconcile`: see src/admin/reconcile.
import { runReconcileCommand } from '../../admin/reconcile/reconcile-command.ts';

export function run(argv: string[]): Promise<number> {
  return runReconcileCommand(argv);
}
