/**
 * SigV4 verification for the AWS API Gateway emulator, with the SDK's own signer
 * (@smithy/signature-v4 and its SHA-256): the emulator re-signs the request it received with the
 * sandbox's secret, the same date and the same signed headers, and compares signatures. Failures
 * answer as AWS does: 403 with an x-amzn-ErrorType the SDK maps to an error name.
 */
import { timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';

export interface AwsCredentialsPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignatureFailure {
  status: 403;
  type: 'MissingAuthenticationTokenException' | 'UnrecognizedClientException' | 'InvalidSignatureException' | 'IncompleteSignatureException';
  message: string;
}

/** AWS refuses a request signed more than 5 minutes away from its clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function amzDate(value: string | null): Date | undefined {
  const match = value?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

const fail = (type: SignatureFailure['type'], message: string): SignatureFailure => ({ status: 403, type, message });

/** undefined when the request is signed by `credentials` for `region` and service `apigateway`. */
export async function checkSignature(request: Request, body: Uint8Array, credentials: AwsCredentialsPair, region: string, now: number = Date.now()): Promise<SignatureFailure | undefined> {
  const authorization = request.headers.get('authorization');
  if (!authorization) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const parts = authorization.match(AUTH);
  if (!parts) return fail('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature parameters for AWS4-HMAC-SHA256.');
  const [, accessKeyId, day, scopeRegion, service, signedHeaders, signature] = parts as unknown as [string, string, string, string, string, string, string];
  if (accessKeyId !== credentials.accessKeyId) return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const date = amzDate(request.headers.get('x-amz-date'));
  if (!date || !date.toISOString().replace(/-/g, '').startsWith(day)) return fail('IncompleteSignatureException', 'X-Amz-Date is missing or does not match the credential scope date.');
  if (Math.abs(now - date.getTime()) > MAX_SKEW_MS) return fail('InvalidSignatureException', 'Signature expired: the request time is more than 5 minutes away from the server time.');
  if (scopeRegion !== region || service !== 'apigateway') return fail('InvalidSignatureException', `Credential should be scoped to a valid region ('${region}') and service ('apigateway').`);

  const url = new URL(request.url);
  const names = signedHeaders.split(';');
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const toSign: HttpRequest = { method: request.method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: url.pathname, query: queryOf(url), headers, body };
  // Exactly the headers the caller signed, and no payload header added by the verifier.
  const signer = new SignatureV4({ credentials, region, service: 'apigateway', sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(toSign, { signingDate: date, signableHeaders: new Set(names) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  const same = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return same
    ? undefined
    : fail('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
}
