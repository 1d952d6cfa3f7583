/**
 * The control-plane routes @aws-sdk/client-api-gateway calls for API keys, usage plans, REST APIs,
 * stages, resources and tags, as REST JSON. Errors carry `x-amzn-ErrorType` (which the SDK reads to
 * name the exception) and a `{"message"}` body. Where AWS's exact wording or class is not
 * documented, the stricter case is modelled and a comment says so.
 */
import { Hono, type Context } from 'hono';
import { awsId, keyValue, type ApiKeyRecord, type AwsGatewayState, type UsagePlanRecord } from './aws-state.ts';
import { patchUsagePlanLimits } from './aws-usage-plan-patch.ts';
import { quotaPeriodStart } from './aws-data-plane.ts';

export type AwsErrorType = 'NotFoundException' | 'ConflictException' | 'BadRequestException' | 'TooManyRequestsException' | 'UnauthorizedException' | 'LimitExceededException';

const STATUS: Record<AwsErrorType, 400 | 401 | 404 | 409 | 429> = {
  NotFoundException: 404,
  ConflictException: 409,
  BadRequestException: 400,
  TooManyRequestsException: 429,
  UnauthorizedException: 401,
  LimitExceededException: 429,
};

export class AwsApiError extends Error {
  constructor(
    readonly type: AwsErrorType,
    message: string,
  ) {
    super(message);
  }
}

export function awsErrorResponse(type: string, status: number, message: string, extraHeaders: Record<string, string> = {}): Response {
  return Response.json({ message }, { status, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.backplane/`, 'x-amzn-requestid': crypto.randomUUID(), ...extraHeaders } });
}

export function errorFor(error: AwsApiError): Response {
  return awsErrorResponse(error.type, STATUS[error.type], error.message, error.type === 'TooManyRequestsException' ? { 'retry-after': '1' } : {});
}

const notFoundKey = () => new AwsApiError('NotFoundException', 'Invalid API Key identifier specified');
const notFoundPlan = () => new AwsApiError('NotFoundException', 'Invalid Usage Plan ID specified');
const notFoundApi = () => new AwsApiError('NotFoundException', 'Invalid API identifier specified');
const seconds = (ms: number) => Math.floor(ms / 1000);

/** AWS pages with an opaque `position`; here the base64 of the next index. Limit 1..500, default 25. */
function page<T>(items: T[], c: Context): { item: T[]; position?: string } {
  const limitText = c.req.query('limit');
  const limit = limitText === undefined ? 25 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AwsApiError('BadRequestException', 'Invalid limit: must be between 1 and 500');
  const position = c.req.query('position');
  const start = position ? Number(Buffer.from(position, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw new AwsApiError('BadRequestException', 'Invalid position specified');
  const slice = items.slice(start, start + limit);
  return start + limit < items.length ? { item: slice, position: Buffer.from(String(start + limit)).toString('base64url') } : { item: slice };
}

function keyView(key: ApiKeyRecord, withValue: boolean) {
  const { value, customerId, description, name, ...rest } = key;
  return { ...rest, ...(name === undefined ? {} : { name }), ...(customerId === undefined ? {} : { customerId }), ...(description === undefined ? {} : { description }), ...(withValue ? { value } : {}) };
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsApiError('BadRequestException', 'Invalid request body: expected a JSON object');
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsApiError('BadRequestException', `Invalid ${name}: must be a string`);
  return value;
}

/** AWS's tag character set: letters, digits, spaces and _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function tagsField(body: Record<string, unknown>): Record<string, string> {
  const tags = body.tags ?? {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw new AwsApiError('BadRequestException', 'Invalid tags: must be a map of strings');
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > 50) throw new AwsApiError('BadRequestException', 'Too many tags: at most 50');
  for (const [key, value] of entries) {
    if (typeof value !== 'string' || key.length < 1 || key.length > 128 || value.length > 256 || key.startsWith('aws:') || !TAG_TEXT.test(key) || !TAG_TEXT.test(value))
      throw new AwsApiError('BadRequestException', `Invalid tag ${key}: keys of 1 to 128 and values of up to 256 letters, digits, spaces and _ . : / = + - @, keys not starting with aws:`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export interface ControlPlaneOptions {
  state: AwsGatewayState;
  region: string;
  now: () => number;
}

function createApiKey(state: AwsGatewayState, body: Record<string, unknown>, now: number): ApiKeyRecord {
  const value = stringField(body, 'value');
  // AWS: a supplied value is at least 20 characters, and values are unique (names are not).
  if (value !== undefined && value.length < 20) throw new AwsApiError('BadRequestException', 'API Key value should be at least 20 characters');
  if (value !== undefined && state.keyByValue(value)) throw new AwsApiError('ConflictException', 'API Key already exists');
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw new AwsApiError('BadRequestException', 'Invalid enabled: must be a boolean');
  const key: ApiKeyRecord = {
    id: awsId(),
    value: value ?? keyValue(),
    name: stringField(body, 'name'),
    customerId: stringField(body, 'customerId'),
    description: stringField(body, 'description'),
    // AWS creates a key disabled unless `enabled: true` is sent.
    enabled: body.enabled === true,
    createdDate: seconds(now),
    lastUpdatedDate: seconds(now),
    stageKeys: [],
    tags: tagsField(body),
  };
  state.apiKeys.set(key.id, key);
  return key;
}

const PATCHABLE = new Set(['/enabled', '/name', '/description', '/customerId']);

function patchApiKey(key: ApiKeyRecord, operations: unknown, now: number): void {
  if (!Array.isArray(operations)) throw new AwsApiError('BadRequestException', 'Invalid patch operations: expected a list');
  for (const raw of operations as Array<Record<string, unknown>>) {
    const { op, path, value } = raw ?? {};
    if (op !== 'replace' || typeof path !== 'string' || !PATCHABLE.has(path)) throw new AwsApiError('BadRequestException', `Invalid patch path '${String(path)}' specified for op '${String(op)}'. Must be one of: [/enabled, /name, /description, /customerId] with op 'replace'`);
    if (path === '/enabled') {
      if (value !== 'true' && value !== 'false') throw new AwsApiError('BadRequestException', `Invalid value '${String(value)}' for /enabled: must be 'true' or 'false'`);
      key.enabled = value === 'true';
    } else {
      const text = typeof value === 'string' ? value : undefined;
      if (path === '/name') key.name = text;
      if (path === '/description') key.description = text;
      if (path === '/customerId') key.customerId = text;
    }
  }
  key.lastUpdatedDate = seconds(now);
}

function addPlanKey(state: AwsGatewayState, plan: UsagePlanRecord, body: Record<string, unknown>) {
  const keyId = stringField(body, 'keyId');
  if (body.keyType !== 'API_KEY') throw new AwsApiError('BadRequestException', "Invalid keyType: must be 'API_KEY'");
  const key = keyId ? state.apiKeys.get(keyId) : undefined;
  if (!key) throw notFoundKey();
  const members = state.planKeys.get(plan.id) as Set<string>;
  if (members.has(key.id)) throw new AwsApiError('ConflictException', `Usage Plan ${plan.id} already contains API Key ${key.id}`);
  // AWS refuses a key in two usage plans that share an API stage. Its exact exception class is not
  // documented; BadRequestException is modelled (the stricter: not retried, not a conflict to adopt).
  const stages = new Set(plan.apiStages.map((s) => `${s.apiId}/${s.stage}`));
  const clash = state.plansOfKey(key.id).find((other) => other.apiStages.some((s) => stages.has(`${s.apiId}/${s.stage}`)));
  if (clash) throw new AwsApiError('BadRequestException', `API Key ${key.id} cannot reference multiple Usage Plans with the same API Stage (already in ${clash.id})`);
  members.add(key.id);
  return { id: key.id, type: 'API_KEY', value: key.value, ...(key.name === undefined ? {} : { name: key.name }) };
}

function mountKeyRoutes(app: Hono, { state, now }: ControlPlaneOptions): void {
  app.post('/apikeys', async (c) => c.json(keyView(createApiKey(state, await jsonBody(c), now()), true), 201));
  app.get('/apikeys', (c) => {
    const name = c.req.query('name');
    const customerId = c.req.query('customerId');
    const withValues = c.req.query('includeValues') === 'true';
    // AWS documents `name` as the name of the queried keys; a prefix match is modelled (the
    // stricter case: callers must compare names exactly themselves).
    const keys = [...state.apiKeys.values()].filter((key) => (name === undefined || (key.name ?? '').startsWith(name)) && (customerId === undefined || key.customerId === customerId));
    const { item, position } = page(keys, c);
    return c.json({ item: item.map((key) => keyView(key, withValues)), ...(position ? { position } : {}) });
  });
  app.get('/apikeys/:id', (c) => {
    const key = state.apiKeys.get(c.req.param('id'));
    if (!key) throw notFoundKey();
    return c.json(keyView(key, c.req.query('includeValue') === 'true'));
  });
  app.patch('/apikeys/:id', async (c) => {
    const key = state.apiKeys.get(c.req.param('id'));
    if (!key) throw notFoundKey();
    patchApiKey(key, (await jsonBody(c)).patchOperations, now());
    return c.json(keyView(key, false));
  });
  // A deleted key stops working at once here (AWS may take a few seconds to propagate it) and leaves
  // its usage plans: AWS's console shows a deleted key in no usage plan, the API reference says
  // nothing more; the provisioner depends on neither (a deleted key is refused either way).
  app.delete('/apikeys/:id', (c) => {
    const id = c.req.param('id');
    if (!state.apiKeys.delete(id)) throw notFoundKey();
    for (const members of state.planKeys.values()) members.delete(id);
    return c.body(null, 202);
  });
}

const DAY_MS = 86_400_000;

function usageDate(c: Context, name: 'startDate' | 'endDate'): number {
  const text = c.req.query(name) ?? '';
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN;
  if (!Number.isFinite(at)) throw new AwsApiError('BadRequestException', `Invalid ${name}: expected a date such as 2016-01-01`);
  return at;
}

/**
 * GetUsage: per key of the usage plan (or `keyId` only), one [used, remaining] pair per UTC day from
 * startDate to endDate. `used` is the calls the data plane admitted that day; `remaining` is what
 * the quota had left at the end of that day (0 without a quota: AWS's value there is not documented).
 */
function usageOf(state: AwsGatewayState, plan: UsagePlanRecord, c: Context) {
  const start = usageDate(c, 'startDate');
  const end = usageDate(c, 'endDate');
  if (end < start) throw new AwsApiError('BadRequestException', 'Invalid endDate: it is before startDate');
  const keyId = c.req.query('keyId');
  const keys = [...(state.planKeys.get(plan.id) ?? [])].filter((id) => keyId === undefined || id === keyId);
  const values: Record<string, number[][]> = {};
  for (const id of keys) {
    const days = state.usageByDay.get(`${plan.id}/${id}`) ?? new Map<string, number>();
    const usedOn = (at: number) => days.get(new Date(at).toISOString().slice(0, 10)) ?? 0;
    const perDay: number[][] = [];
    for (let at = start; at <= end; at += DAY_MS) {
      let periodUsed = 0;
      if (plan.quota) for (let day = quotaPeriodStart(plan.quota, at); day <= at; day += DAY_MS) periodUsed += usedOn(day);
      perDay.push([usedOn(at), plan.quota ? Math.max(0, plan.quota.limit - periodUsed) : 0]);
    }
    values[id] = perDay;
  }
  return { usagePlanId: plan.id, startDate: c.req.query('startDate'), endDate: c.req.query('endDate'), values };
}

function mountPlanRoutes(app: Hono, { state }: ControlPlaneOptions): void {
  const planOf = (id: string) => {
    const plan = state.usagePlans.get(id);
    if (!plan) throw notFoundPlan();
    return plan;
  };
  app.get('/usageplans', (c) => {
    const keyId = c.req.query('keyId');
    const plans = [...state.usagePlans.values()].filter((plan) => keyId === undefined || state.planKeys.get(plan.id)?.has(keyId));
    return c.json(page(plans, c));
  });
  app.get('/usageplans/:id', (c) => c.json(planOf(c.req.param('id'))));
  app.get('/usageplans/:id/usage', (c) => c.json(usageOf(state, planOf(c.req.param('id')), c)));
  app.patch('/usageplans/:id', async (c) => {
    const plan = planOf(c.req.param('id'));
    const result = patchUsagePlanLimits(plan, (await jsonBody(c)).patchOperations);
    if (!result.ok) throw new AwsApiError('BadRequestException', result.message);
    const { throttle: _t, quota: _q, ...rest } = plan;
    const updated: UsagePlanRecord = { ...rest, ...(result.throttle ? { throttle: result.throttle } : {}), ...(result.quota ? { quota: result.quota } : {}) };
    state.usagePlans.set(plan.id, updated);
    return c.json(updated);
  });
  app.post('/usageplans/:id/keys', async (c) => c.json(addPlanKey(state, planOf(c.req.param('id')), await jsonBody(c)), 201));
  app.get('/usageplans/:id/keys', (c) => {
    const plan = planOf(c.req.param('id'));
    const name = c.req.query('name');
    const keys = [...(state.planKeys.get(plan.id) ?? [])]
      .map((id) => state.apiKeys.get(id) as ApiKeyRecord)
      .filter((key) => name === undefined || (key.name ?? '').startsWith(name))
      .map((key) => ({ id: key.id, type: 'API_KEY', value: key.value, ...(key.name === undefined ? {} : { name: key.name }) }));
    return c.json(page(keys, c));
  });
  app.get('/usageplans/:id/keys/:keyId', (c) => {
    const plan = planOf(c.req.param('id'));
    const key = state.apiKeys.get(c.req.param('keyId'));
    if (!key || !state.planKeys.get(plan.id)?.has(key.id)) throw notFoundKey();
    return c.json({ id: key.id, type: 'API_KEY', value: key.value, ...(key.name === undefined ? {} : { name: key.name }) });
  });
  app.delete('/usageplans/:id/keys/:keyId', (c) => {
    const plan = planOf(c.req.param('id'));
    if (!state.planKeys.get(plan.id)?.delete(c.req.param('keyId'))) throw notFoundKey();
    return c.body(null, 202);
  });
}

function mountApiRoutes(app: Hono, { state }: ControlPlaneOptions): void {
  const apiOf = (id: string) => {
    const api = state.restApis.get(id);
    if (!api) throw notFoundApi();
    return api;
  };
  app.get('/restapis', (c) => c.json(page([...state.restApis.values()].map(({ stages: _s, resources: _r, ...api }) => api), c)));
  app.get('/restapis/:id', (c) => {
    const { stages: _s, resources: _r, ...api } = apiOf(c.req.param('id'));
    return c.json(api);
  });
  app.get('/restapis/:id/stages', (c) => c.json({ item: apiOf(c.req.param('id')).stages }));
  app.get('/restapis/:id/resources', (c) => {
    const embed = c.req.queries('embed') ?? [];
    const resources = apiOf(c.req.param('id')).resources.map(({ resourceMethods, ...resource }) => (embed.includes('methods') ? { ...resource, resourceMethods } : resource));
    return c.json(page(resources, c));
  });
}

/** Tags by ARN: arn:aws:apigateway:{region}::/apikeys/{id}, /usageplans/{id}, /restapis/{id}. */
function mountTagRoutes(app: Hono, { state, region }: ControlPlaneOptions): void {
  const taggable = (arn: string): { tags: Record<string, string> } => {
    const match = decodeURIComponent(arn).match(/^arn:aws:apigateway:([a-z0-9-]+)::\/(apikeys|usageplans|restapis)\/([a-z0-9]+)$/);
    if (!match || match[1] !== region) throw new AwsApiError('BadRequestException', `Invalid ARN specified in the request: ${arn}`);
    const found = match[2] === 'apikeys' ? state.apiKeys.get(match[3] as string) : match[2] === 'usageplans' ? state.usagePlans.get(match[3] as string) : state.restApis.get(match[3] as string);
    if (!found) throw new AwsApiError('NotFoundException', 'Invalid resource identifier specified');
    return found;
  };
  app.get('/tags/:arn', (c) => c.json({ tags: taggable(c.req.param('arn')).tags }));
  app.put('/tags/:arn', async (c) => {
    const target = taggable(c.req.param('arn'));
    const tags = { ...target.tags, ...tagsField(await jsonBody(c)) };
    if (Object.keys(tags).length > 50) throw new AwsApiError('BadRequestException', 'Too many tags: at most 50');
    target.tags = tags;
    return c.body(null, 204);
  });
}

export function createControlPlane(options: ControlPlaneOptions): Hono {
  const app = new Hono();
  mountKeyRoutes(app, options);
  mountPlanRoutes(app, options);
  mountApiRoutes(app, options);
  mountTagRoutes(app, options);
  app.notFound(() => awsErrorResponse('UnknownOperationException', 404, 'Unknown operation'));
  app.onError((error) => {
    if (error instanceof AwsApiError) return errorFor(error);
    throw error;
  });
  return app;
}
