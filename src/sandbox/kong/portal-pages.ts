/**
 * The portal pages server (Kong's port 8003), rendered from the files stored in the workspace, so
 * a browser runs exactly what sync pushed. Routing follows the workspace-folder layout:
 * `/{ws}/{route}` -> `content/{route}.txt` (YAML front matter: layout, title, readable_by) ->
 * `themes/<theme.name from portal.conf.yaml>/layouts/<layout>`; `/{ws}/assets/...` and
 * `/assets/...` serve `themes/<theme>/assets/...`. `/` is the default workspace's index.
 */
import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { parse as parseYaml } from 'yaml';
import { assetBytes, contentTypeFor } from './file-rules.ts';
import { metaObject } from './wire-types.ts';
import type { KongEmulatorState } from './kong-state.ts';
import { SESSION_COOKIE } from './portal-api.ts';
import { renderTemplate, TemplateError } from './template.ts';

interface ContentPage {
  frontMatter: Record<string, unknown>;
  body: string;
}

export function createPortalPagesApp(state: KongEmulatorState): Hono {
  const app = new Hono();

  app.get('*', (c) => {
    const segments = new URL(c.req.url).pathname.split('/').filter(Boolean).map(safeDecode);
    // `/{ws}/...` when the first segment names a workspace; otherwise the default workspace.
    const first = segments[0];
    const ws = first !== undefined && state.ws(first) ? first : 'default';
    const rest = first !== undefined && state.ws(first) ? segments.slice(1) : segments;
    if (!state.portalEnabled(ws)) return c.text('Not Found', 404);

    const theme = activeTheme(state, ws);
    if (rest[0] === 'assets') return serveAsset(c, state, ws, `themes/${theme}/${rest.join('/')}`);
    return renderRoute(c, state, ws, theme, rest.join('/'));
  });

  return app;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function readYamlFile(state: KongEmulatorState, ws: string, path: string): Record<string, unknown> {
  const file = state.getFile(ws, path);
  if (!file) return {};
  try {
    const value: unknown = parseYaml(file.contents);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `theme.name` in portal.conf.yaml; Kong falls back to `base`. */
function activeTheme(state: KongEmulatorState, ws: string): string {
  const theme = readYamlFile(state, ws, 'portal.conf.yaml').theme as { name?: unknown } | undefined;
  return typeof theme?.name === 'string' && theme.name !== '' ? theme.name : 'base';
}

function serveAsset(c: Context, state: KongEmulatorState, ws: string, path: string): Response {
  const file = state.getFile(ws, path);
  if (!file) return c.text('Not Found', 404);
  const bytes = assetBytes(file.contents);
  return c.body(bytes as string, 200, { 'content-type': contentTypeFor(path), 'cache-control': 'no-store' });
}

function findContent(state: KongEmulatorState, ws: string, route: string): ContentPage | undefined {
  const base = route === '' ? 'index' : route;
  for (const path of [`content/${base}.txt`, `content/${base}.md`, `content/${base}/index.txt`, `content/${base}/index.md`]) {
    const file = state.getFile(ws, path);
    if (file) return splitFrontMatter(file.contents);
  }
  return undefined;
}

function splitFrontMatter(contents: string): ContentPage {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(contents);
  if (!match) return { frontMatter: {}, body: contents };
  const value: unknown = parseYaml(match[1] ?? '');
  return { frontMatter: value && typeof value === 'object' ? (value as Record<string, unknown>) : {}, body: match[2] ?? '' };
}

function renderRoute(c: Context, state: KongEmulatorState, ws: string, theme: string, route: string): Response {
  const portalConf = readYamlFile(state, ws, 'portal.conf.yaml');
  const redirect = (portalConf.redirect ?? {}) as Record<string, unknown>;
  const pagesBase = `${state.urls.pages}/${ws}`;
  const developer = state.sessionDeveloper(ws, getCookie(c, SESSION_COOKIE));
  const user = developer && developer.status === 0 ? developer : undefined;

  const page = findContent(state, ws, route);
  if (!page) return renderNotFound(c, state, ws, theme);
  // `readable_by` present means "logged-in developers only" in this emulator.
  if (page.frontMatter.readable_by !== undefined && !user) {
    const target = typeof redirect.unauthenticated === 'string' ? redirect.unauthenticated : 'login';
    return c.redirect(`${pagesBase}/${target}`, 302);
  }
  const layout = page.frontMatter.layout;
  if (typeof layout !== 'string') return c.text(`content for "/${route}" has no layout in its front matter`, 500);

  const api = new URL(state.urls.portalApi);
  const workspace = state.requireWs(ws).workspace;
  const context = {
    portal: {
      name: ws,
      workspace: ws,
      url: pagesBase,
      api_url: `${state.urls.portalApi}/${ws}`,
      api_port: api.port,
      api_ssl_port: '',
      auth: workspace.config.portal_auth ?? 'basic-auth',
      auto_approve: workspace.config.portal_auto_approve === true,
      developer_meta_fields: state.metaFields(ws),
      redirect,
    },
    page: { ...page.frontMatter, route, body: page.body, url: `${pagesBase}/${route}` },
    user: user
      ? { is_authenticated: true, id: user.id, email: user.email, status: user.status, meta: metaObject(user.meta) }
      : { is_authenticated: false },
    theme: { name: theme, ...readYamlFile(state, ws, `themes/${theme}/theme.conf.yaml`) },
  };
  return renderLayout(c, state, ws, theme, `layouts/${layout}`, context, 200);
}

function renderNotFound(c: Context, state: KongEmulatorState, ws: string, theme: string): Response {
  if (!state.getFile(ws, `themes/${theme}/layouts/system/404.html`)) return c.text('Not Found', 404);
  const context = { portal: { workspace: ws, url: `${state.urls.pages}/${ws}` }, page: { title: 'Not Found' }, user: { is_authenticated: false }, theme: { name: theme } };
  return renderLayout(c, state, ws, theme, 'layouts/system/404.html', context, 404);
}

function renderLayout(c: Context, state: KongEmulatorState, ws: string, theme: string, layoutPath: string, context: Record<string, unknown>, status: 200 | 404): Response {
  const file = state.getFile(ws, `themes/${theme}/${layoutPath}`);
  if (!file) return c.text(`layout themes/${theme}/${layoutPath} not found`, 500);
  try {
    const html = renderTemplate(file.contents, context, (partial) => state.getFile(ws, `themes/${theme}/${partial}`)?.contents, file.path);
    return c.html(html, status, { 'cache-control': 'no-store' });
  } catch (error) {
    if (error instanceof TemplateError) return c.text(`template error: ${error.message}`, 500);
    throw error;
  }
}
