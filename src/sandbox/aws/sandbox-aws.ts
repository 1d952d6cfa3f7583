/**
 * The sandbox's AWS side (`npm start -- --mode hosted --gateway aws`): the API Gateway emulator with
 * one REST API, stage `test`, GET /test-service requiring a key, and one usage plan per plan of the
 * plans file (without limits: the sandbox gives them the plans file's through aws-setup's code, as an
 * admin would); and the provisioner variables that point GATEWAY=aws at it with the sandbox's fake
 * credentials (AWS's own variable names, read by the SDK's chain: no setting of ours holds them).
 */
import type { PlansFile } from '../../shared/plans.ts';
import { SANDBOX_AWS } from '../sandbox-credentials.ts';
import { seedSandboxApi, startAwsEmulator, type RunningAwsEmulator } from './aws-emulator.ts';

export interface SandboxAws {
  emulator: RunningAwsEmulator;
  env: Record<string, string>;
  apiUrl: string;
  /** Plan id of the plans file → its usage plan id. */
  usagePlans: Record<string, string>;
  close(): Promise<void>;
}

export async function startSandboxAws(options: {
  plans: PlansFile;
  moesif: { url: string; applicationId: string } | undefined;
  controlPort?: number;
  invokePort?: number;
  now?: () => number;
}): Promise<SandboxAws> {
  const emulator = await startAwsEmulator({
    credentials: SANDBOX_AWS,
    region: SANDBOX_AWS.region,
    controlPort: options.controlPort ?? 0,
    dataPort: options.invokePort ?? 0,
    ...(options.now ? { now: options.now } : {}),
    ...(options.moesif ? { moesif: options.moesif } : {}),
  });
  const { stage, path, usagePlans } = seedSandboxApi(emulator.state, {
    plans: options.plans.plans.map((plan) => ({ key: plan.id, name: `sandbox-${plan.id}` })),
  });
  const apiUrl = `${emulator.invokeUrl}/${stage}${path}`;
  return {
    emulator,
    apiUrl,
    usagePlans,
    env: {
      GATEWAY: 'aws',
      AWS_REGION: SANDBOX_AWS.region,
      AWS_API_GATEWAY_USAGE_PLANS: Object.entries(usagePlans).map(([plan, id]) => `${plan}=${id}`).join(','),
      AWS_ENDPOINT_URL_API_GATEWAY: emulator.endpoint,
      AWS_ACCESS_KEY_ID: SANDBOX_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_AWS.secretAccessKey,
      SIGNUP_API_URL: apiUrl,
    },
    close: () => emulator.close(),
  };
}
