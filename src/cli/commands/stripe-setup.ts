// `portal-monetization stripe-setup`: options, work and output live in src/admin/stripe-setup.
import { runSetupCommand } from '../../admin/stripe-setup/stripe-setup-command.ts';

export function run(argv: string[]): Promise<number> {
  return runSetupCommand(argv);
}
