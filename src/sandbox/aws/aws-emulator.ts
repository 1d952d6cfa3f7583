/**
 * An AWS API Gateway (REST API) stand-in for the sandbox and tests: a control-plane server that
 * @aws-sdk/client-api-gateway talks to (endpoint override), verifying each request's SigV4
 * signature against the sandbox's fake credentials, and a data-plane server (the invoke URL) that
 * enforces API keys, usage-plan throttles and quotas. Emulator-only routes live under /_emulator/
 * on the control plane (state, injected TooManyRequests / errors).
 */
import { listen, type RunningService } from '../running-service.ts';
import { createControlPlane, awsErrorResponse, type AwsErrorType, AwsApiError, errorFor } from './aws-control-plane.ts';
import { createDataPlane, type DataPlaneOptions } from './aws-data-plane.ts';
import { checkSignature, type AwsCredentialsPair } from './aws-sigv4-check.ts';
import { awsId, AwsGatewayState, type QuotaSettings, type RestApiRecord, type ThrottleSettings } from './aws-state.ts';

export { AwsGatewayState } from './aws-state.ts';

/** Injected control-plane failure: the next `times` requests matching method and path prefix. */
export interface AwsFaultRule {
  method?: string;
  pathPrefix?: string;
  type: AwsErrorType;
  times: number;
}

export interface AwsEmulatorOptions {
  credentials: AwsCredentialsPair;
  region: string;
  controlPort?: number;
  dataPort?: number;
  /** The clock quotas count by; default Date.now. Signatures and throttles always use real time. */
  now?: () => number;
  moesif?: { url: string; applicationId: string };
}

export interface RunningAwsEmulator {
  /** The SDK's endpoint (control plane). */
  endpoint: string;
  /** The invoke URL base: `${invokeUrl}/{stage}/{path}`. */
  invokeUrl: string;
  region: string;
  state: AwsGatewayState;
  faults: AwsFaultRule[];
  moesifDeliveries: DataPlaneOptions['deliveries'];
  /** Control-plane requests seen, by operation path (for tests). */
  requests: Array<{ method: string; path: string; status: number }>;
  /** Resolves when every Moesif delivery in flight has settled. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface SandboxApiSeed {
  stage?: string;
  path?: string;
  /** One usage plan per entry; `key` names it in the returned map (a plan id of the plans file). */
  plans: Array<{ key: string; name?: string; throttle?: ThrottleSettings; quota?: QuotaSettings }>;
}

/** A REST API with one stage and one GET method that requires a key, and usage plans attached to that stage. */
export function seedSandboxApi(state: AwsGatewayState, seed: SandboxApiSeed, now = Date.now()): { api: RestApiRecord; stage: string; path: string; usagePlans: Record<string, string> } {
  const stage = seed.stage ?? 'test';
  const path = seed.path ?? '/test-service';
  const created = Math.floor(now / 1000);
  const api: RestApiRecord = {
    id: awsId(),
    name: 'sandbox-api',
    createdDate: created,
    apiKeySource: 'HEADER',
    tags: {},
    stages: [
      {
        stageName: stage,
        deploymentId: awsId(6),
        createdDate: created,
        lastUpdatedDate: created,
        // What Moesif's AWS integration needs: the API key id as the user.
        accessLogSettings: { format: '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","user":"$context.identity.apiKeyId","status":"$context.status"}', destinationArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/moesif-sandbox' },
        tags: {},
      },
    ],
    resources: [
      { id: awsId(), path: '/', resourceMethods: {} },
      { id: awsId(), path, pathPart: path.slice(1), resourceMethods: { GET: { httpMethod: 'GET', authorizationType: 'NONE', apiKeyRequired: true } } },
    ],
  };
  (api.resources[1] as { parentId?: string }).parentId = api.resources[0]?.id;
  state.restApis.set(api.id, api);
  const usagePlans: Record<string, string> = {};
  for (const plan of seed.plans) {
    const record = state.addUsagePlan({ name: plan.name ?? `sandbox-${plan.key}`, apiStages: [{ apiId: api.id, stage }], ...(plan.throttle ? { throttle: plan.throttle } : {}), ...(plan.quota ? { quota: plan.quota } : {}) });
    usagePlans[plan.key] = record.id;
  }
  return { api, stage, path, usagePlans };
}

function takeFault(faults: AwsFaultRule[], method: string, path: string): AwsFaultRule | undefined {
  const rule = faults.find((f) => f.times > 0 && (!f.method || f.method === method) && (!f.pathPrefix || path.startsWith(f.pathPrefix)));
  if (rule) rule.times -= 1;
  return rule;
}

export async function startAwsEmulator(options: AwsEmulatorOptions): Promise<RunningAwsEmulator> {
  const state = new AwsGatewayState();
  const now = options.now ?? Date.now;
  const faults: AwsFaultRule[] = [];
  const requests: RunningAwsEmulator['requests'] = [];
  const inFlight = new Set<Promise<void>>();
  const deliveries: DataPlaneOptions['deliveries'] = [];
  const control = createControlPlane({ state, region: options.region, now });

  const controlFetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === '/_emulator/state') return Response.json({ apiKeys: [...state.apiKeys.values()].map(({ value: _v, ...key }) => key), usagePlans: [...state.usagePlans.values()], planKeys: Object.fromEntries([...state.planKeys].map(([id, keys]) => [id, [...keys]])) });
    const body = new Uint8Array(await request.arrayBuffer());
    const refused = await checkSignature(request, body, options.credentials, options.region);
    const record = (status: number) => requests.push({ method: request.method, path: url.pathname, status });
    if (refused) {
      record(refused.status);
      return awsErrorResponse(refused.type, refused.status, refused.message);
    }
    const fault = takeFault(faults, request.method, url.pathname);
    if (fault) {
      const answer = errorFor(new AwsApiError(fault.type, `Injected fault: ${fault.type}`));
      record(answer.status);
      return answer;
    }
    const answer = await control.fetch(new Request(request.url, { method: request.method, headers: request.headers, ...(body.length ? { body } : {}) }));
    record(answer.status);
    return answer;
  };
  const dataFetch = createDataPlane({
    state,
    now,
    clock: Date.now,
    moesif: options.moesif,
    deliveries,
    track(work) {
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    },
  });
  const controlServer = await listen('aws-apigateway-emulator', controlFetch, options.controlPort ?? 0);
  let dataServer: RunningService;
  try {
    dataServer = await listen('aws-apigateway-invoke', dataFetch, options.dataPort ?? 0);
  } catch (error) {
    await controlServer.close();
    throw error;
  }
  return {
    endpoint: controlServer.url,
    invokeUrl: dataServer.url,
    region: options.region,
    state,
    faults,
    moesifDeliveries: deliveries,
    requests,
    async settled() {
      await Promise.all([...inFlight]);
    },
    async close() {
      await Promise.all([controlServer.close(), dataServer.close()]);
    },
  };
}
