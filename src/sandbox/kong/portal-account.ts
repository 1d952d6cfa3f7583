/**
 * The logged-in developer's own account on the portal API, as Kong Enterprise's portal app calls
 * it from the account page: `PATCH /developer/email`, `PUT /developer/meta` (what the portal GUI
 * sends; `PATCH` as the published spec lists it, merging keys), `PATCH /developer/password` and
 * `DELETE /credentials/key-auth/{id}`. Each developer change goes through the same update as an
 * Admin API edit, so the `developers` event hook fires for it. A developer cannot set status or
 * custom_id here.
 */
import type { Context, Hono } from 'hono';
import { EMAIL, parseMeta, validateMeta } from './developer-meta.ts';
import { developerView, sha256Hex, type KongEmulatorState, type StoredDeveloper } from './kong-state.ts';
import { badBody, readBody, schemaViolation, uniqueViolation } from './kong-responses.ts';

type SessionDeveloper = (c: Context) => StoredDeveloper | undefined;

const unauthorized = (c: Context) => c.json({ message: 'Unauthorized' }, 401);

async function changeEmail(c: Context, state: KongEmulatorState, developer: StoredDeveloper): Promise<Response> {
  const ws = c.req.param('ws') ?? '';
  const body = await readBody(c);
  if (!body) return badBody(c);
  const email = typeof body.email === 'string' ? body.email.trim() : '';
  if (!EMAIL.test(email)) return schemaViolation(c, { email: email === '' ? 'required field missing' : `invalid email address ${email}` });
  const holder = state.getDeveloper(ws, email);
  if (holder && holder.id !== developer.id) return uniqueViolation(c, { email });
  const updated = state.updateDeveloper(ws, developer.id, { email });
  return updated ? c.json(developerView(updated)) : c.json({ message: 'Not found' }, 404);
}

/** `merge`: the spec's PATCH (keys over the current meta); otherwise the GUI's PUT (the meta replaced). */
async function changeMeta(c: Context, state: KongEmulatorState, developer: StoredDeveloper, merge: boolean): Promise<Response> {
  const ws = c.req.param('ws') ?? '';
  const body = await readBody(c);
  if (!body) return badBody(c);
  if (body.meta === undefined || body.meta === null || body.meta === '') return c.json({ message: 'meta required' }, 400);
  const given = parseMeta(body.meta);
  if (typeof given === 'string') return schemaViolation(c, { meta: given });
  const current = parseMeta(developer.meta ?? '');
  const meta = merge && typeof current !== 'string' ? { ...current, ...given } : given;
  // Kong's own check of meta on update is not public; the stricter case: the workspace's fields rule it.
  const errors = validateMeta(meta, state.metaFields(ws));
  if (errors) return schemaViolation(c, { meta: errors });
  const updated = state.updateDeveloper(ws, developer.id, { meta: JSON.stringify(meta) });
  if (!updated) return c.json({ message: 'Not found' }, 404);
  return merge ? c.json(developerView(updated)) : c.body(null, 200);
}

/** basic-auth: `{old_password, password}`; key-auth: `{key}`. No credential of the portal's kind: 404. */
async function changePassword(c: Context, state: KongEmulatorState, developer: StoredDeveloper): Promise<Response> {
  const ws = c.req.param('ws') ?? '';
  const body = await readBody(c);
  if (!body) return badBody(c);
  const consumerId = developer.consumer?.id ?? '';
  const record = state.requireWs(ws);
  const credential = record.basicAuth.get(consumerId);
  if (typeof body.password === 'string' && body.password !== '') {
    if (!credential) return c.json({ message: 'Not found' }, 404);
    // Kong's exact wording for a wrong old password is not public; the refusal itself is.
    if (typeof body.old_password !== 'string' || !state.checkPassword(ws, developer.email, body.old_password)) return c.json({ message: 'Invalid old password' }, 400);
    credential.passwordHash = sha256Hex(consumerId + body.password);
    return c.body(null, 204);
  }
  // Changing a key-auth login key is not emulated: say so rather than pretend.
  if (typeof body.key === 'string' && body.key !== '') return c.json({ message: 'changing a key-auth login key is not emulated' }, 501);
  return c.json({ message: 'key or password is required' }, 400);
}

export function mountDeveloperAccountRoutes(app: Hono, state: KongEmulatorState, sessionDeveloper: SessionDeveloper): void {
  const withDeveloper = (handler: (c: Context, developer: StoredDeveloper) => Response | Promise<Response>) => (c: Context) => {
    const developer = sessionDeveloper(c);
    return developer ? handler(c, developer) : unauthorized(c);
  };
  app.patch('/:ws/developer/email', withDeveloper((c, developer) => changeEmail(c, state, developer)));
  app.put('/:ws/developer/meta', withDeveloper((c, developer) => changeMeta(c, state, developer, false)));
  app.patch('/:ws/developer/meta', withDeveloper((c, developer) => changeMeta(c, state, developer, true)));
  app.patch('/:ws/developer/password', withDeveloper((c, developer) => changePassword(c, state, developer)));
  app.delete(
    '/:ws/credentials/key-auth/:id',
    withDeveloper((c, developer) => {
      const ws = c.req.param('ws') ?? '';
      const credential = state.keysOf(ws, developer.consumer?.id ?? '').find((k) => k.id === c.req.param('id'));
      if (!credential) return c.json({ message: 'Not found' }, 404);
      state.deleteKey(ws, credential.key);
      return c.body(null, 204);
    }),
  );
}
