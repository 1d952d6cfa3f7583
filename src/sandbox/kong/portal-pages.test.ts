import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_VERSION, MARKERS, serializePublicConfig } from '../../shared/bundle-layout.ts';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';
import { seedStandInTheme } from './seed-theme.ts';

let kong: RunningKongEmulator;

async function page(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(kong.portalUrl + path, { redirect: 'manual', headers });
  return { status: response.status, location: response.headers.get('location'), type: response.headers.get('content-type'), text: await response.text() };
}

beforeAll(async () => {
  kong = await startKongEmulator();
  seedStandInTheme(kong, { planField: true });
});
afterAll(async () => {
  await kong.close();
});

describe('portal pages', () => {
  it('renders the register page from the stored theme: form, meta inputs, required scripts in order', async () => {
    const { status, text } = await page('/default/register');
    expect(status).toBe(200);
    expect(text).toContain('<form id="register"');
    expect(text).toMatch(/name="email"/);
    expect(text).toMatch(/name="password"/);
    expect(text).toMatch(/name="full_name"[^>]*required/);
    expect(text).toMatch(/name="plan"/);
    const order = ['assets/js/third-party/jquery.min.js', 'assets/js/kong/kong.js', 'assets/js/kong/kong.utils.js', 'assets/js/kong/kong.auth.js'].map((src) => text.indexOf(`<script src="${src}"></script>`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain(`var url = '${kong.portalApiUrl}/default'`);
    expect(text).toContain(`<base href="${kong.portalUrl}/default/">`);
    // Template comments never reach the browser.
    expect(text).not.toContain('{#');
  });

  it('renders exactly what is stored: a pushed change shows up on the next request', async () => {
    const path = 'themes/base/partials/unauthenticated/register.html';
    const original = kong.state.getFile('default', path)?.contents ?? '';
    kong.state.putFile('default', path, original.replace('Create an account', 'Join the API'));
    try {
      expect((await page('/default/register')).text).toContain('Join the API');
    } finally {
      kong.state.putFile('default', path, original);
    }
  });

  it('renders a script-tags block spliced after jQuery the way sync writes it (markers dropped, config intact)', async () => {
    const path = 'themes/base/partials/theme/required-scripts.html';
    const original = kong.state.getFile('default', path)?.contents ?? '';
    const jquery = '<script src="assets/js/third-party/jquery.min.js"></script>';
    const config = serializePublicConfig({ provisionerUrl: 'http://127.0.0.1:8787/{{x}}', planField: true });
    const block = [MARKERS.scriptTags.begin(BUNDLE_VERSION), `<script>window.PM_CONFIG = ${config}</script>`, MARKERS.scriptTags.end(BUNDLE_VERSION)].join('\n');
    kong.state.putFile('default', path, original.replace(jquery, `${jquery}\n${block}`));
    try {
      const { status, text } = await page('/default/register');
      expect(status).toBe(200);
      expect(text).toContain(`<script>window.PM_CONFIG = ${config}</script>`);
      expect(text).not.toContain('BEGIN kong-portal-monetization');
      expect(text.indexOf('PM_CONFIG')).toBeGreaterThan(text.indexOf(jquery));
    } finally {
      kong.state.putFile('default', path, original);
    }
  });

  it('omits the plan input when the workspace has no plan meta field', async () => {
    const fields = kong.state.requireWs('default').workspace.config.portal_developer_meta_fields;
    kong.state.patchWorkspaceConfig('default', { portal_developer_meta_fields: JSON.stringify([{ title: 'full_name', label: 'Full Name', validator: { required: true } }]) });
    try {
      expect((await page('/default/register')).text).not.toMatch(/name="plan"/);
    } finally {
      kong.state.patchWorkspaceConfig('default', { portal_developer_meta_fields: fields });
    }
  });

  it('serves theme assets under /{ws}/assets and /assets with content types', async () => {
    const kongJs = await page('/default/assets/js/kong/kong.auth.js');
    expect(kongJs.status).toBe(200);
    expect(kongJs.type).toContain('javascript');
    expect(kongJs.text).toContain('window.Kong.Auth.register');
    const jquery = await page('/assets/js/third-party/jquery.min.js');
    expect(jquery.status).toBe(200);
    expect(jquery.text).toContain('jQuery');
    expect((await page('/default/assets/js/missing.js')).status).toBe(404);
  });

  it('follows theme.name in portal.conf.yaml', async () => {
    kong.state.putFile('default', 'themes/other/layouts/system/register.html', '<p>other theme for {{portal.workspace}}</p>');
    const conf = kong.state.getFile('default', 'portal.conf.yaml')?.contents ?? '';
    kong.state.putFile('default', 'portal.conf.yaml', conf.replace('name: base', 'name: other'));
    try {
      expect((await page('/default/register')).text).toBe('<p>other theme for default</p>');
    } finally {
      kong.state.putFile('default', 'portal.conf.yaml', conf);
    }
  });

  it('sends anonymous visitors of the dashboard to login, and shows the dashboard with a session', async () => {
    const anonymous = await page('/default/dashboard');
    expect(anonymous.status).toBe(302);
    expect(anonymous.location).toBe(`${kong.portalUrl}/default/login`);

    const developer = kong.state.addDeveloper('default', { email: 'dash@example.com', password: 'pw', meta: { full_name: 'Dash' } });
    const session = kong.state.createSession('default', developer.id);
    const dashboard = await page('/default/dashboard', { cookie: `portal_session=${session.id}` });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('<strong id="developer-email">dash@example.com</strong>');
    expect(dashboard.text).toContain('id="create-key"');
  });

  it('serves the index at / and /{ws}, a 404 page for unknown routes, and nothing while the portal is off', async () => {
    expect((await page('/')).text).toContain('id="home"');
    expect((await page('/default')).text).toContain('id="home"');
    const missing = await page('/default/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('Page not found');
    kong.state.patchWorkspaceConfig('default', { portal: false });
    try {
      expect((await page('/default/register')).status).toBe(404);
    } finally {
      kong.state.patchWorkspaceConfig('default', { portal: true });
    }
  });

  it('answers 500 with the template error when a stored layout uses unsupported syntax', async () => {
    kong.state.putFile('default', 'content/broken.txt', '---\nlayout: broken.html\n---\n');
    kong.state.putFile('default', 'themes/base/layouts/broken.html', '{% local x = 1 %}');
    const broken = await page('/default/broken');
    expect(broken.status).toBe(500);
    expect(broken.text).toContain('themes/base/layouts/broken.html:1: unsupported statement');
  });
});
