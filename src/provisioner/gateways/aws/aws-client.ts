/**
 * The API Gateway client and its errors. The SDK signs (SigV4), retries throttling
 * (TooManyRequestsException) and 5xx with its standard strategy; what is left is turned into a
 * MonetizationError with a code and a fix, never carrying a credential.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { MonetizationError, SettingError } from '../../../shared/errors.ts';
import type { AwsGatewaySettings } from '../../settings/aws-settings.ts';

/**
 * On Node 20 the SDK prints "NodeVersionSupportWarning: ... versions published after the first week
 * of January 2027 will require node >=22" when a process makes its first client (@aws-sdk/core's
 * emitWarningIfUnsupportedVersion): so every AWS command printed it. It concerns SDK releases this
 * install does not get (package-lock pins one that runs on Node 20, as "engines" allows), so it is
 * silenced with the SDK's documented switch (aws/aws-sdk-js-v3#7983), which silences that warning
 * only; every other warning still prints, and a value the admin set wins.
 */
function silenceNodeVersionNotice(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

export function createApiGatewayClient(settings: Pick<AwsGatewaySettings, 'region' | 'endpoint' | 'credentials'>, options: { maxAttempts?: number } = {}): APIGatewayClient {
  silenceNodeVersionNotice();
  return new APIGatewayClient({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    // Undefined: the SDK's default chain (shared config, SSO, instance/task role...).
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 5,
  });
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'UnrecognizedClientException', 'InvalidSignatureException', 'MissingAuthenticationTokenException', 'ExpiredTokenException', 'IncompleteSignatureException']);

/** The SDK's exception name, or undefined for a non-AWS error. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error && typeof error.name === 'string' ? error.name : undefined;
}

/** An AWS failure as one of ours: credentials → SettingError; the rest → aws_error with the operation. */
export function describeAwsError(error: unknown, operation: string): MonetizationError {
  const name = awsErrorName(error) ?? 'Error';
  const detail = (error as Error)?.message ?? String(error);
  if (CREDENTIAL_ERRORS.has(name) || /credential/i.test(name))
    return new SettingError(
      'AWS credentials',
      `${operation} was refused or could not be signed (${name}: ${detail})`,
      "give the provisioner AWS credentials through the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance/task role) with apigateway:GET/POST/PATCH/PUT/DELETE on /apikeys, /usageplans and /tags",
    );
  if (name === 'AccessDeniedException' || name === 'UnauthorizedException')
    return new MonetizationError('aws_access_denied', `${operation}: ${name}: ${detail}`, { hint: 'allow apigateway:GET/POST/PATCH/PUT/DELETE on the API keys, usage plans and tags of this region to these credentials', cause: error });
  return new MonetizationError('aws_error', `${operation}: ${name}: ${detail}`, { hint: 'the AWS SDK already retried throttling and server errors; try again, or run `npm run doctor`', cause: error });
}

export async function awsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw describeAwsError(error, operation);
  }
}
