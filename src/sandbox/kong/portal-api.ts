/**
 * The Dev Portal API (Kong's port 8004), base `/{ws}`: register, session login/logout, the
 * logged-in developer and their key-auth credentials. CORS allows the portal pages' origin with
 * credentials, as Kong does for its own GUI host.
 */
import { Hono, type Context, type Next } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import { developerView, type KongEmulatorState, type StoredDeveloper } from './kong-state.ts';
import { badBody, notFound, readBody, schemaViolation, uniqueViolation } from './kong-responses.ts';
import { EMAIL, parseMeta, validateMeta } from './developer-meta.ts';
import { mountDeveloperAccountRoutes } from './portal-account.ts';

export const SESSION_COOKIE = 'portal_session';

const STATUS_LABELS = ['APPROVED', 'PENDING', 'REJECTED', 'REVOKED', 'INVITED', 'UNVERIFIED'];

interface PortalApiOptions {
  /** Extra origins allowed besides the emulator's own pages origin. */
  corsOrigins?: string[];
}

export function createPortalApiApp(state: KongEmulatorState, options: PortalApiOptions = {}): Hono {
  const app = new Hono();

  app.use(
    '*',
    cors({
      origin: (origin) => (allowedOrigins(state, options).has(origin) ? origin : null),
      credentials: true,
      allowHeaders: ['Authorization', 'apikey', 'Content-Type', 'X-Requested-With'],
      allowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'],
    }),
  );

  // Unknown workspace or portal off: Kong's portal API does not exist there.
  app.use('/:ws/*', async (c: Context, next: Next) => (state.portalEnabled(c.req.param('ws') ?? '') ? next() : notFound(c)));

  app.post('/:ws/register', async (c) => register(c, state, c.req.param('ws')));

  app.get('/:ws/auth', (c) => login(c, state, c.req.param('ws')));

  app.delete('/:ws/auth', (c) => {
    const sessionId = getCookie(c, SESSION_COOKIE);
    if (sessionId) state.sessions.delete(sessionId);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 200);
  });

  app.get('/:ws/developer', (c) => {
    const developer = sessionDeveloper(c, state);
    return developer ? c.json(developerView(developer)) : unauthorized(c);
  });

  app.get('/:ws/developer/meta_fields', (c) => c.json(state.metaFields(c.req.param('ws'))));

  app.get('/:ws/credentials/key-auth', (c) => {
    const developer = sessionDeveloper(c, state);
    if (!developer?.consumer) return unauthorized(c);
    const data = state.keysOf(c.req.param('ws'), developer.consumer.id);
    return c.json({ data, next: null, total: data.length });
  });

  app.post('/:ws/credentials/key-auth', async (c) => {
    const ws = c.req.param('ws');
    const developer = sessionDeveloper(c, state);
    if (!developer?.consumer) return unauthorized(c);
    const body = await readBody(c);
    if (!body) return badBody(c);
    const key = typeof body.key === 'string' && body.key !== '' ? body.key : undefined;
    if (key && state.requireWs(ws).keyAuth.has(key)) return uniqueViolation(c, { key });
    return c.json(state.addKey(ws, developer.consumer.id, key), 201);
  });

  mountDeveloperAccountRoutes(app, state, (c) => sessionDeveloper(c, state));

  app.notFound((c) => notFound(c));
  return app;
}

function allowedOrigins(state: KongEmulatorState, options: PortalApiOptions): Set<string> {
  const pages = new URL(state.urls.pages);
  const localhostAlias = `${pages.protocol}//localhost:${pages.port}`;
  return new Set([pages.origin, localhostAlias, ...(options.corsOrigins ?? [])]);
}

function unauthorized(c: Context): Response {
  return c.json({ message: 'Unauthorized' }, 401);
}

function sessionDeveloper(c: Context, state: KongEmulatorState): StoredDeveloper | undefined {
  const developer = state.sessionDeveloper(c.req.param('ws') ?? '', getCookie(c, SESSION_COOKIE));
  return developer && developer.status === 0 ? developer : undefined;
}

/** POST /{ws}/register, form-encoded as kong.auth.js sends it: email, password|key, meta (JSON string). */
async function register(c: Context, state: KongEmulatorState, ws: string): Promise<Response> {
  const body = await readBody(c);
  if (!body) return badBody(c);
  const config = state.requireWs(ws).workspace.config;
  const auth = config.portal_auth ?? 'basic-auth';
  const fields: Record<string, unknown> = {};

  const email = typeof body.email === 'string' ? body.email.trim() : '';
  if (!email) fields.email = 'required field missing';
  else if (!EMAIL.test(email)) fields.email = 'invalid email address ' + email;
  if (auth === 'basic-auth' && (typeof body.password !== 'string' || body.password === '')) fields.password = 'required field missing';
  if (auth === 'key-auth' && (typeof body.key !== 'string' || body.key === '')) fields.key = 'required field missing';

  const meta = parseMeta(body.meta);
  if (typeof meta === 'string') fields.meta = meta;
  else {
    const metaErrors = validateMeta(meta, state.metaFields(ws));
    if (metaErrors) fields.meta = metaErrors;
  }
  if (Object.keys(fields).length > 0) return schemaViolation(c, fields);

  if (state.getDeveloper(ws, email)) return uniqueViolation(c, { email });
  if (auth === 'key-auth' && state.requireWs(ws).keyAuth.has(body.key as string)) return uniqueViolation(c, { key: body.key as string });

  // Kong: email verification first (5), then auto-approve (0), else pending (1).
  const status = config.portal_email_verification === true ? 5 : config.portal_auto_approve === true ? 0 : 1;
  const developer = state.addDeveloper(
    ws,
    {
      email,
      meta: JSON.stringify(meta),
      status,
      ...(auth === 'basic-auth' ? { password: body.password as string } : {}),
      ...(auth === 'key-auth' ? { key: body.key as string } : {}),
    },
    { emitEvent: true },
  );
  const credential =
    auth === 'key-auth'
      ? state.keysOf(ws, developer.consumer?.id ?? '')[0]
      : { id: developer.consumer?.id, consumer: developer.consumer, username: email, created_at: developer.created_at };
  return c.json({ developer: developerView(developer), credential }, 200);
}

/** GET /{ws}/auth: basic-auth or key-auth credentials in headers; sets the session cookie. */
function login(c: Context, state: KongEmulatorState, ws: string): Response {
  const auth = state.requireWs(ws).workspace.config.portal_auth ?? 'basic-auth';
  let developer: StoredDeveloper | undefined;
  if (auth === 'key-auth') {
    const key = c.req.header('apikey');
    if (!key) return c.json({ message: 'No API key found in request' }, 401);
    const credential = state.requireWs(ws).keyAuth.get(key);
    developer = credential ? state.developerByConsumer(ws, credential.consumer.id) : undefined;
  } else if (auth === 'basic-auth') {
    const header = c.req.header('authorization') ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    if (!match) return c.json({ message: 'Unauthorized' }, 401);
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return c.json({ message: 'Invalid authentication credentials' }, 401);
    developer = state.checkPassword(ws, decoded.slice(0, colon), decoded.slice(colon + 1));
  } else {
    return c.json({ message: `login with ${auth} is not emulated` }, 501);
  }
  if (!developer) return c.json({ message: 'Invalid authentication credentials' }, 401);
  if (developer.status !== 0) {
    const label = STATUS_LABELS[developer.status] ?? 'UNKNOWN';
    return c.json({ message: `Unauthorized: Developer status: ${label}`, status: developer.status, label }, 401);
  }
  const session = state.createSession(ws, developer.id);
  setCookie(c, SESSION_COOKIE, session.id, { path: '/', httpOnly: true, sameSite: 'Lax' });
  return c.text('OK', 200);
}
