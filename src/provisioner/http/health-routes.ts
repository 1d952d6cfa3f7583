/** GET /healthz (the process answers) and GET /readyz (its dependencies answer; details only for the READYZ_TOKEN bearer). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import type { ReadyzPublicAnswer } from '../../shared/provisioner-api.ts';
import { createReadinessProbe, type ReadinessCheck } from './readiness.ts';

/** Constant-time check of `Authorization: Bearer <token>` (digests make the lengths equal). */
function hasBearer(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(header.slice('Bearer '.length).trim()), digest(token));
}

export function mountHealthRoutes(app: Hono, options: { readiness: ReadinessCheck[]; timeoutMs?: number | undefined; cacheMs?: number | undefined; readyzToken: string | undefined }): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const readiness = createReadinessProbe(options.readiness, {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.cacheMs === undefined ? {} : { cacheMs: options.cacheMs }),
  });
  app.get('/readyz', async (c) => {
    // Details name dependencies and their errors: only for whoever holds READYZ_TOKEN, who also gets a fresh probe.
    const trusted = hasBearer(c.req.header('authorization'), options.readyzToken);
    const report = await readiness(trusted);
    const status = report.ready ? 200 : 503;
    c.header('cache-control', 'no-store');
    if (!trusted) {
      const body: ReadyzPublicAnswer = { status: report.ready ? 'ready' : 'not_ready' };
      return c.json(body, status);
    }
    if (report.ready) return c.json({ status: 'ready', checks: report.checks });
    return c.json({ status: 'not_ready', error: { code: 'not_ready', message: report.problems }, checks: report.checks }, 503);
  });
}
