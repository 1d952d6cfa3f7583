/**
 * The Kong Admin API subset the product and kong-portal-cli use: workspaces, the portal Files API,
 * developers, consumers, event hooks, and read-only services/routes/plugins. Answers follow Kong
 * Gateway Enterprise 3.4 (status codes, error bodies, pagination with `next`).
 */
import { Hono, type Context, type Next } from 'hono';
import { mountEventHookRoutes } from './admin-event-hooks.ts';
import { mountConsumerRoutes } from './admin-consumers.ts';
import { mountPluginRoutes } from './admin-plugins.ts';
import { filePathError } from './file-rules.ts';
import type { GatewayEntities } from './gateway-entities.ts';
import { developerView, fileView, type KongEmulatorState } from './kong-state.ts';
import { badBody, notFound, paginatePortal, readBody, readPageRequest, schemaViolation, selectFields, uniqueViolation } from './kong-responses.ts';

interface AdminAppOptions {
  /** When set, every request needs `Kong-Admin-Token: <token>` (RBAC on). */
  adminToken?: string | undefined;
  gateway: GatewayEntities;
  version?: string;
  /** Also serve the core entities as a Konnect control plane: `/v2/control-planes/{id}/core-entities/…` with `Authorization: Bearer <token>`. */
  konnect?: KonnectControlPlane | undefined;
}

export interface KonnectControlPlane {
  controlPlaneId: string;
  /** kpat_… (personal) or spat_… (system) access token. */
  token: string;
}

const KONNECT_PREFIX = /^\/v2\/control-planes\/([^/]+)\/core-entities(\/.*)?$/;
/** Konnect's core entities have no workspaces and no portal routes. */
const KONNECT_ENTITIES = /^\/(consumers|plugins|services|routes)(\/|$)/;

const PORTAL_AUTH_TYPES = new Set(['basic-auth', 'key-auth', 'openid-connect']);
const BOOLEAN_CONFIG_KEYS = new Set(['portal', 'portal_auto_approve', 'portal_email_verification', 'portal_is_legacy']);
const EMULATED_KONG_VERSION = '3.4.3.12-enterprise-edition';

/** RBAC on: every request needs the token. */
function requireAdminToken(app: Hono, token: string): void {
  app.use('*', async (c: Context, next: Next) => {
    // Kong answers a missing and a wrong token alike.
    if (c.req.header('kong-admin-token') !== token) return c.json({ message: 'Invalid credentials. Token or User credentials required' }, 401);
    return next();
  });
}

/** `/` (version and configuration, as doctor and kong-portal-cli read them) and `/status`. */
function mountRootRoutes(app: Hono, state: KongEmulatorState, options: AdminAppOptions): void {
  app.get('/', (c) =>
    c.json({
      version: options.version ?? EMULATED_KONG_VERSION,
      edition: 'enterprise',
      tagline: 'Welcome to kong',
      hostname: 'kong-emulator',
      configuration: {
        portal: true,
        portal_gui_host: new URL(state.urls.pages).host,
        portal_gui_protocol: 'http',
        portal_api_url: state.urls.portalApi,
        enforce_rbac: options.adminToken ? 'on' : 'off',
        admin_listen: [new URL(state.urls.admin).host],
      },
      plugins: { available_on_server: Object.fromEntries(options.gateway.plugins.map((p) => [p.name, { version: options.version ?? EMULATED_KONG_VERSION }])) },
    }),
  );
  app.get('/status', (c) => c.json({ database: { reachable: true }, server: { connections_active: 1, total_requests: 0 } }));
}

/** Workspaces, and the 404 for an unknown workspace before any workspace-scoped route. */
function mountWorkspaceRoutes(app: Hono, state: KongEmulatorState): void {
  app.get('/workspaces', (c) => c.json({ data: [...state.workspaces.values()].map((r) => r.workspace), next: null }));
  app.get('/workspaces/:name', (c) => {
    const record = state.ws(c.req.param('name'));
    return record ? c.json(record.workspace) : notFound(c);
  });
  app.patch('/workspaces/:name', (c) => patchWorkspace(c, state, c.req.param('name')));

  // Everything below is workspace-scoped: an unknown workspace is a 404 before anything else.
  app.use('/:ws/*', async (c: Context, next: Next) => {
    const ws = c.req.param('ws') ?? '';
    if (ws === 'workspaces' || ws === 'event-hooks') return next();
    if (!state.ws(ws)) return notFound(c);
    return next();
  });

  app.get('/:ws/workspaces/:name', (c) => {
    const record = state.ws(c.req.param('name'));
    return record && c.req.param('name') === c.req.param('ws') ? c.json(record.workspace) : notFound(c);
  });
  app.patch('/:ws/workspaces/:name', (c) => (c.req.param('name') === c.req.param('ws') ? patchWorkspace(c, state, c.req.param('name')) : notFound(c)));
}

/** The portal's Files API and developers only exist while the portal is on. */
function guardPortalRoutes(app: Hono, state: KongEmulatorState): void {
  const portalOnly = async (c: Context, next: Next) => (state.portalEnabled(c.req.param('ws') ?? '') ? next() : notFound(c));
  app.use('/:ws/files', portalOnly);
  app.use('/:ws/files/*', portalOnly);
  app.use('/:ws/developers', portalOnly);
  app.use('/:ws/developers/*', portalOnly);
}

/** The portal Files API. */
function mountFileRoutes(app: Hono, state: KongEmulatorState): void {
  app.get('/:ws/files', (c) => {
    const page = readPageRequest(c);
    if (page instanceof Response) return page;
    const result = paginatePortal(c, state.requireWs(c.req.param('ws')).files.values(), page, (f) => selectFields(c, fileView(f)));
    return result instanceof Response ? result : c.json(result);
  });

  app.post('/:ws/files', async (c) => {
    const ws = c.req.param('ws');
    const body = await readBody(c);
    if (!body) return badBody(c);
    const errors = fileErrors(body.path, body.contents, body.checksum);
    if (errors) return schemaViolation(c, errors);
    const path = body.path as string;
    if (state.requireWs(ws).files.has(path)) return uniqueViolation(c, { path });
    const { file } = state.putFile(ws, path, body.contents as string, body.checksum as string | undefined);
    return c.json(fileView(file), 201);
  });

  app.get('/:ws/files/*', (c) => {
    const file = state.getFile(c.req.param('ws'), filePathFromUrl(c));
    return file ? c.json(selectFields(c, fileView(file))) : notFound(c);
  });

  app.put('/:ws/files/*', async (c) => {
    const ws = c.req.param('ws');
    const path = filePathFromUrl(c);
    const body = await readBody(c);
    if (!body) return badBody(c);
    const errors = fileErrors(path, body.contents, body.checksum);
    if (errors) return schemaViolation(c, errors);
    const { file } = state.putFile(ws, path, body.contents as string, body.checksum as string | undefined);
    return c.json(fileView(file), 200);
  });

  app.patch('/:ws/files/*', async (c) => {
    const ws = c.req.param('ws');
    const existing = state.getFile(ws, filePathFromUrl(c));
    if (!existing) return notFound(c);
    const body = await readBody(c);
    if (!body) return badBody(c);
    const path = body.path === undefined ? existing.path : body.path;
    const contents = body.contents === undefined ? existing.contents : body.contents;
    const errors = fileErrors(path, contents, body.checksum);
    if (errors) return schemaViolation(c, errors);
    if (path !== existing.path) {
      if (state.requireWs(ws).files.has(path as string)) return uniqueViolation(c, { path: path as string });
      state.deleteFile(ws, existing.path);
    }
    const checksum = body.checksum === undefined && contents === existing.contents ? existing.checksum : (body.checksum as string | undefined);
    const { file } = state.putFile(ws, path as string, contents as string, checksum);
    return c.json(fileView(file), 200);
  });

  app.delete('/:ws/files/*', (c) => {
    const ws = c.req.param('ws');
    const file = state.getFile(ws, filePathFromUrl(c));
    if (file) state.deleteFile(ws, file.path);
    // Kong answers 204 whether or not the file existed.
    return c.body(null, 204);
  });
}

/** Portal developers. */
function mountDeveloperRoutes(app: Hono, state: KongEmulatorState): void {
  app.get('/:ws/developers', (c) => {
    const page = readPageRequest(c);
    if (page instanceof Response) return page;
    const status = c.req.query('status');
    const all = state.requireWs(c.req.param('ws')).developers.values();
    const filtered = status === undefined ? all : [...all].filter((d) => String(d.status) === status);
    const result = paginatePortal(c, filtered, page, developerView);
    return result instanceof Response ? result : c.json(result);
  });

  app.post('/:ws/developers', async (c) => {
    const ws = c.req.param('ws');
    const body = await readBody(c);
    if (!body) return badBody(c);
    const fields: Record<string, string> = {};
    if (typeof body.email !== 'string' || !EMAIL.test(body.email)) fields.email = body.email === undefined ? 'required field missing' : 'invalid email address';
    if (body.meta !== undefined && typeof body.meta !== 'string') fields.meta = 'expected a string';
    if (body.custom_id !== undefined && body.custom_id !== null && typeof body.custom_id !== 'string') fields.custom_id = 'expected a string';
    if (Object.keys(fields).length > 0) return schemaViolation(c, fields);
    if (state.getDeveloper(ws, body.email as string)) return uniqueViolation(c, { email: body.email as string });
    const developer = state.addDeveloper(
      ws,
      {
        email: body.email as string,
        meta: (body.meta as string | undefined) ?? '{}',
        // Created through the Admin API, a developer is pending (1) unless told otherwise.
        status: body.status === undefined ? 1 : Number(body.status),
        ...(typeof body.password === 'string' ? { password: body.password } : {}),
        ...(typeof body.custom_id === 'string' ? { custom_id: body.custom_id } : {}),
      },
      { emitEvent: true },
    );
    return c.json(developerView(developer), 201);
  });

  app.get('/:ws/developers/:idOrEmail', (c) => {
    const developer = state.getDeveloper(c.req.param('ws'), c.req.param('idOrEmail'));
    return developer ? c.json(developerView(developer)) : notFound(c);
  });

  app.patch('/:ws/developers/:idOrEmail', async (c) => {
    const ws = c.req.param('ws');
    const developer = state.getDeveloper(ws, c.req.param('idOrEmail'));
    if (!developer) return notFound(c);
    const body = await readBody(c);
    if (!body) return badBody(c);
    const fields: Record<string, string> = {};
    const status = body.status === undefined ? undefined : Number(body.status);
    if (status !== undefined && (!Number.isInteger(status) || status < 0 || status > 5)) fields.status = 'value should be between 0 and 5';
    if (body.meta !== undefined && typeof body.meta !== 'string') fields.meta = 'expected a string';
    if (body.email !== undefined && (typeof body.email !== 'string' || !EMAIL.test(body.email))) fields.email = 'invalid email address';
    if (Object.keys(fields).length > 0) return schemaViolation(c, fields);
    if (typeof body.email === 'string' && body.email !== developer.email && state.getDeveloper(ws, body.email)) return uniqueViolation(c, { email: body.email });
    const updated = state.updateDeveloper(ws, developer.id, {
      ...(status === undefined ? {} : { status }),
      ...(typeof body.meta === 'string' ? { meta: body.meta } : {}),
      ...(typeof body.email === 'string' ? { email: body.email } : {}),
    });
    // Kong wraps the PATCH answer (unlike GET): {developer: {...}}.
    return updated ? c.json({ developer: developerView(updated) }) : notFound(c);
  });

  app.delete('/:ws/developers/:idOrEmail', (c) => {
    state.deleteDeveloper(c.req.param('ws'), c.req.param('idOrEmail'));
    return c.body(null, 204);
  });
}

/** Like Kong, a route without a workspace prefix targets `default` (/files == /default/files); Konnect's prefix goes to konnectRequest. */
function withDefaultWorkspace(app: Hono, options: AdminAppOptions): Hono {
  const outer = new Hono();
  outer.all('*', (c) => {
    const url = new URL(c.req.url);
    const konnect = KONNECT_PREFIX.exec(url.pathname);
    if (konnect) return konnectRequest(c.req.raw, url, konnect[1] ?? '', konnect[2] ?? '/', options, app);
    if (!UNPREFIXED.test(url.pathname)) return app.fetch(c.req.raw);
    url.pathname = `/default${url.pathname}`;
    return app.fetch(new Request(url, c.req.raw));
  });
  return outer;
}

export function createAdminApp(state: KongEmulatorState, options: AdminAppOptions): Hono {
  const app = new Hono();
  if (options.adminToken) requireAdminToken(app, options.adminToken);
  mountRootRoutes(app, state, options);
  mountWorkspaceRoutes(app, state);
  guardPortalRoutes(app, state);
  mountFileRoutes(app, state);
  mountDeveloperRoutes(app, state);
  mountConsumerRoutes(app, state);
  mountPluginRoutes(app, state, options.gateway);
  mountEventHookRoutes(app, state);
  app.notFound((c) => notFound(c));
  return withDefaultWorkspace(app, options);
}

/** Konnect's answers are problem+json; a control plane or entity it does not know is a 404. */
function konnectRequest(request: Request, url: URL, controlPlaneId: string, rest: string, options: AdminAppOptions, app: Hono): Response | Promise<Response> {
  const problem = (status: number, title: string, detail: string) =>
    Response.json({ status, title, instance: `kong:trace:${Date.now()}`, detail }, { status, headers: { 'content-type': 'application/problem+json' } });
  const konnect = options.konnect;
  if (!konnect) return problem(404, 'Not Found', 'this emulator serves no Konnect control plane');
  if (request.headers.get('authorization') !== `Bearer ${konnect.token}`) return problem(401, 'Unauthorized', 'Invalid credentials');
  if (controlPlaneId !== konnect.controlPlaneId || !KONNECT_ENTITIES.test(rest)) return problem(404, 'Not Found', 'Not found');
  const inner = new URL(url);
  inner.pathname = `/default${rest}`;
  const headers = new Headers(request.headers);
  headers.delete('authorization');
  // The bearer stands for the RBAC token inside: Konnect has its own auth, no Kong-Admin-Token.
  if (options.adminToken) headers.set('kong-admin-token', options.adminToken);
  return app.fetch(new Request(inner, { method: request.method, headers, body: request.body, duplex: 'half' } as RequestInit));
}

const UNPREFIXED = /^\/(files|developers|consumers|plugins|services|routes)(\/|$)/;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The path after `/{ws}/files/`, percent-decoded, slashes kept. */
function filePathFromUrl(c: Context): string {
  const pathname = new URL(c.req.url).pathname;
  const marker = `/${encodeURIComponent(c.req.param('ws') ?? '')}/files/`;
  const raw = pathname.startsWith(marker) ? pathname.slice(marker.length) : pathname.replace(/^\/[^/]+\/files\//, '');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function fileErrors(path: unknown, contents: unknown, checksum: unknown): Record<string, string> | undefined {
  const fields: Record<string, string> = {};
  const pathError = filePathError(path);
  if (pathError) fields.path = pathError;
  if (contents === undefined || contents === null) fields.contents = 'required field missing';
  else if (typeof contents !== 'string') fields.contents = 'expected a string';
  if (checksum !== undefined && checksum !== null && typeof checksum !== 'string') fields.checksum = 'expected a string';
  return Object.keys(fields).length > 0 ? fields : undefined;
}

async function patchWorkspace(c: Context, state: KongEmulatorState, name: string): Promise<Response> {
  if (!state.ws(name)) return notFound(c);
  const body = await readBody(c);
  if (!body) return badBody(c);
  const config = (body.config ?? {}) as Record<string, unknown>;
  if (typeof config !== 'object' || Array.isArray(config)) return schemaViolation(c, { config: 'expected a record' });
  const normalized: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    // Form-encoded PATCHes (config.portal=true) arrive as strings.
    normalized[key] = BOOLEAN_CONFIG_KEYS.has(key) && (value === 'true' || value === 'false') ? value === 'true' : value;
    const v = normalized[key];
    if (BOOLEAN_CONFIG_KEYS.has(key) && v !== null && typeof v !== 'boolean') errors[key] = 'expected a boolean';
    if (key === 'portal_auth' && v !== null && v !== '' && !PORTAL_AUTH_TYPES.has(String(v))) errors[key] = `expected one of: ${[...PORTAL_AUTH_TYPES].join(', ')}`;
    if (key === 'portal_developer_meta_fields' && v !== null) {
      const problem = metaFieldsProblem(v);
      if (problem) errors[key] = problem;
    }
  }
  if (Object.keys(errors).length > 0) return schemaViolation(c, { config: errors });
  const workspace = state.patchWorkspaceConfig(name, normalized);
  if (body.meta && typeof body.meta === 'object') workspace.meta = { ...workspace.meta, ...(body.meta as Record<string, unknown>) };
  if (typeof body.comment === 'string') (workspace as unknown as Record<string, unknown>).comment = body.comment;
  return c.json(workspace);
}

/** Kong stores meta fields as a JSON string of [{title, label, validator}]; anything else is refused. */
function metaFieldsProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string (JSON array of {title, label, validator})';
  try {
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed)) return 'expected a JSON array';
    for (const field of parsed) if (!field || typeof field.title !== 'string' || field.title === '') return 'every field needs a title';
    return undefined;
  } catch {
    return 'invalid JSON';
  }
}
