// `portal-monetization doctor`: options, work and output live in src/admin/doctor.
import { runDoctorCommand } from '../../admin/doctor/doctor-command.ts';

export function run(argv: string[]): Promise<number> {
  return runDoctorCommand(argv);
}
