// `portal-monetization aws-setup`: options, work and output live in src/admin/aws-setup.
import { runAwsSetupCommand } from '../../admin/aws-setup/aws-setup-command.ts';

export function run(argv: string[]): Promise<number> {
  return runAwsSetupCommand(argv);
}
