// `portal-monetization reconcile`: options, work and output live in src/admin/reconcile.
import { runReconcileCommand } from '../../admin/reconcile/reconcile-command.ts';

export function run(argv: string[]): Promise<number> {
  return runReconcileCommand(argv);
}
