/**
 * The stand-in theme in a real Chromium against the emulator: register -> auto login -> dashboard
 * -> create key -> call the proxy; Kong's error on a taken email; and Kong.Auth.register's
 * contract (form-encoded POST, meta JSON string, resolve/reject shapes) as Kong's theme has it.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium } from '../../../e2e/chromium.ts';
import { startKongEmulator, type RunningKongEmulator } from './kong-emulator.ts';
import { seedStandInTheme } from './seed-theme.ts';

const executablePath = findChromium();

describe.skipIf(!executablePath)('stand-in theme in Chromium', () => {
  let kong: RunningKongEmulator;
  let browser: Browser;

  beforeAll(async () => {
    kong = await startKongEmulator({ propagationMs: 0 });
    seedStandInTheme(kong, { planField: true });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await kong?.close();
  });

  async function openRegister(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${kong.portalUrl}/default/register`);
    return page;
  }

  it('registers, lands logged in on the dashboard, creates a key that the proxy accepts', async () => {
    const page = await openRegister();
    await page.fill('#register input[name=email]', 'browser@example.com');
    await page.fill('#register input[name=password]', 'pw-browser-1');
    await page.fill('#register input[name=full_name]', 'Browser User');
    await page.fill('#register input[name=plan]', 'growth');
    await Promise.all([page.waitForURL(`${kong.portalUrl}/default/dashboard`), page.click('#register-submit')]);

    expect(await page.textContent('#developer-email')).toBe('browser@example.com');
    const developer = kong.state.getDeveloper('default', 'browser@example.com');
    expect(developer?.status).toBe(0);
    expect(JSON.parse(developer?.meta ?? '{}')).toEqual({ full_name: 'Browser User', plan: 'growth' });

    await page.click('#create-key');
    await page.waitForFunction(() => (document.querySelector('#api-key')?.textContent ?? '') !== '');
    const key = (await page.textContent('#api-key')) ?? '';
    expect(kong.state.keysOf('default', developer?.consumer?.id ?? '').map((k) => k.key)).toEqual([key]);

    const call = await fetch(`${kong.proxyUrl}/test-service`, { headers: { apikey: key } });
    expect(call.status).toBe(200);
    expect(((await call.json()) as { headers: Record<string, string> }).headers['x-consumer-username']).toBe('browser@example.com');
  }, 60_000);

  it("shows Kong's error message when the email is already registered", async () => {
    kong.state.addDeveloper('default', { email: 'exists@example.com', password: 'pw', meta: { full_name: 'Exists' } });
    const page = await openRegister();
    await page.fill('#register input[name=email]', 'exists@example.com');
    await page.fill('#register input[name=password]', 'pw-2');
    await page.fill('#register input[name=full_name]', 'Someone Else');
    await page.click('#register-submit');
    await page.waitForFunction(() => (document.querySelector('#register-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#register-error')).toBe(`UNIQUE violation detected on '{email="exists@example.com"}'`);
    expect(page.url()).toBe(`${kong.portalUrl}/default/register`);
  }, 60_000);

  it('keeps Kong.Auth.register contract: type.FIELDS top level, the rest in meta, reject shape', async () => {
    const page = await openRegister();
    const outcome = await page.evaluate(async () => {
      const kongAuth = (window as unknown as { Kong: { getApiUrl(): string; Auth: { register(o: unknown): Promise<unknown>; BASIC_AUTH: unknown } } }).Kong;
      const baseUrl = kongAuth.getApiUrl();
      const ok = (await kongAuth.Auth.register({
        baseUrl,
        type: kongAuth.Auth.BASIC_AUTH,
        fields: [
          { name: 'email', value: 'contract@example.com' },
          { name: 'password', value: 'pw' },
          { name: 'full_name', value: 'Con Tract' },
        ],
      })) as { developer: { email: string; meta: string } };
      let rejection: Record<string, unknown> = {};
      try {
        await kongAuth.Auth.register({ baseUrl, type: kongAuth.Auth.BASIC_AUTH, fields: [{ name: 'email', value: 'contract@example.com' }, { name: 'password', value: 'pw' }, { name: 'full_name', value: 'Again' }] });
      } catch (error) {
        rejection = error as Record<string, unknown>;
      }
      return { email: ok.developer.email, meta: ok.developer.meta, rejectionKeys: Object.keys(rejection).sort(), message: rejection.message, status: (rejection.xhr as { status: number }).status };
    });
    expect(outcome.email).toBe('contract@example.com');
    expect(JSON.parse(outcome.meta)).toEqual({ full_name: 'Con Tract' });
    expect(outcome.rejectionKeys).toEqual(['ajaxOptions', 'message', 'throwError', 'xhr']);
    expect(outcome.status).toBe(409);
    expect(outcome.message).toContain('UNIQUE violation');
  }, 60_000);
});
