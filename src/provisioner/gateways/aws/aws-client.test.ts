import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../../shared/package-root.ts';

/** A fresh Node process that makes one API Gateway client the way every AWS command does, then warns once itself. */
function makeClient(env: Record<string, string> = {}): Promise<string> {
  const client = packagePath('src/provisioner/gateways/aws/aws-client.ts');
  const code = `const { createApiGatewayClient } = await import(${JSON.stringify(client)});
createApiGatewayClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'x' } });
process.emitWarning('an unrelated warning');`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(stderr));
  });
}

// On Node 20 the SDK prints its Node 22 notice from every process that makes a client (the first
// AWS call of doctor, reconcile, aws-setup, the provisioner). On Node 22+ it never prints.
describe("the AWS SDK's Node.js version notice", () => {
  it('is not printed by our client; other warnings still are', async () => {
    const stderr = await makeClient();
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    expect(stderr).toContain('an unrelated warning');
  }, 30_000);

  it("shows again when the admin sets the SDK's switch to false", async () => {
    const stderr = await makeClient({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    if (Number(process.versions.node.split('.')[0]) < 22) expect(stderr).toContain('NodeVersionSupportWarning');
    expect(stderr).toContain('an unrelated warning');
  }, 30_000);
});
