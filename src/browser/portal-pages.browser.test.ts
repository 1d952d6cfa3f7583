/**
 * The bundle on the stand-in theme in a real Chromium, against the sandbox: Kong's register errors
 * read as sentences, the plan description sits on its own line, and the dashboard's billing panel
 * sits under the heading with its two links apart and a note that Stripe emails a code; the
 * theme shows no empty "New key:" before a key exists.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium } from '../../e2e/chromium.ts';
import { FREE_PORTS, startSandbox, type Sandbox } from '../dev/start-sandbox.ts';

const executablePath = findChromium();
const PASSWORD = 'correct horse battery staple';

describe.skipIf(!executablePath)('portal pages with the bundle, in Chromium', () => {
  let sandbox: Sandbox;
  let browser: Browser;

  beforeAll(async () => {
    sandbox = await startSandbox({ ports: FREE_PORTS });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  async function register(fields: { email: string; fullName: string }): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${sandbox.kong!.portalUrl}/default/register`);
    await page.waitForSelector('select[name=plan]');
    await page.fill('#register input[name=email]', fields.email);
    await page.fill('#register input[name=password]', PASSWORD);
    await page.fill('#register input[name=full_name]', fields.fullName);
    return page;
  }

  const box = async (page: Page, selector: string) => (await page.locator(selector).first().boundingBox())!;

  it('first load: the plan description is on its own line, between the picker and "Create account"', async () => {
    const page = await register({ email: 'layout@example.com', fullName: 'Lay Out' });
    const [select, description, button] = [await box(page, 'select[name=plan]'), await box(page, '#plan-description, select[name=plan] + small'), await box(page, '#register-submit')];
    expect(description.y).toBeGreaterThanOrEqual(select.y + select.height);
    expect(button.y).toBeGreaterThanOrEqual(description.y + description.height);
  });

  it("a taken email reads as a sentence, not Kong's UNIQUE violation", async () => {
    sandbox.kong!.state.addDeveloper('default', { email: 'taken@example.com', password: PASSWORD, meta: JSON.stringify({ full_name: 'First' }) });
    const page = await register({ email: 'taken@example.com', fullName: 'Second' });
    await page.click('#register-submit');
    await page.waitForFunction(() => (document.querySelector('#register-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#register-error')).toBe('An account with this email already exists. Log in instead?');
  });

  it('a schema violation names the field in a sentence', async () => {
    const page = await register({ email: 'noname@example.com', fullName: '' });
    await page.click('#register-submit');
    await page.waitForFunction(() => (document.querySelector('#register-error')?.textContent ?? '') !== '');
    const text = (await page.textContent('#register-error')) ?? '';
    expect(text).toContain('Full name is required.');
    expect(text).not.toMatch(/schema violation|meta\./);
  });

  it('dashboard: panel under the heading, links apart, the code note; no empty "New key:"', async () => {
    const page = await register({ email: 'panel@example.com', fullName: 'Pan El' });
    // The card step sends the new developer to Stripe Checkout after login; come back without paying.
    await Promise.all([page.waitForURL((url) => !url.pathname.endsWith('/register'), { timeout: 30_000 }), page.click('#register-submit')]);
    await page.goto(`${sandbox.kong!.portalUrl}/default/dashboard`);
    const panel = page.locator('.portal-monetization-billing');
    await panel.waitFor();
    expect((await box(page, '.portal-monetization-billing')).y).toBeGreaterThan((await box(page, '#dashboard-page h1')).y);
    const [checkout, manage] = [await box(page, '.portal-monetization-billing-checkout'), await box(page, '.portal-monetization-billing-manage')];
    expect(manage.x >= checkout.x + checkout.width + 8 || manage.y >= checkout.y + checkout.height).toBe(true);
    expect(await panel.textContent()).toContain('Stripe emails you a sign-in code.');
    expect(await page.locator('#new-key').isVisible()).toBe(false);
    await page.click('#create-key');
    await page.waitForFunction(() => (document.querySelector('#api-key')?.textContent ?? '') !== '');
    expect(await page.locator('#new-key').isVisible()).toBe(true);
  }, 60_000);
});
