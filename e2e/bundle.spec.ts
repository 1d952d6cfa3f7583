/**
 * The portal bundle in a real browser: the built monetization.js, script-tags block and
 * register-hook block on a fixture register page with a stand-in Kong register and a fake,
 * cross-origin provisioner (e2e/fixtures/bundle/fixture-server.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { fixtureDeveloperId, PLANS, PROVISIONED, startBundleFixture, type AuthType, type BundleFixture, type PageOptions } from './fixtures/bundle/fixture-server.ts';

let fixture: BundleFixture;

test.beforeAll(async () => {
  fixture = await startBundleFixture();
});
test.afterAll(async () => {
  await fixture?.close();
});
test.beforeEach(() => {
  fixture.reset();
});

interface Deferred {
  promise: Promise<void>;
  release(): void;
}
function deferred(): Deferred {
  let release = () => undefined as void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

async function openRegister(page: Page, options: PageOptions = {}): Promise<void> {
  await page.goto(fixture.pageUrl('register', options));
  await expect(page.locator('#register')).toBeVisible();
}

async function fillForm(page: Page, email: string, auth: AuthType = 'basic-auth'): Promise<void> {
  await page.getByLabel('Email').fill(email);
  if (auth === 'basic-auth') await page.getByLabel('Password').fill('correct horse battery');
  if (auth === 'key-auth') await page.getByLabel('API key').fill('my-key-123');
  await page.getByLabel('Full Name').fill('Ada Lovelace');
}

/** What the fixture's theme code stored from register's resolved values (survives the redirect). */
async function registerResults(page: Page): Promise<Array<Record<string, unknown>>> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('fixture:results') || '[]'));
}

for (const auth of ['basic-auth', 'key-auth', 'openid-connect'] as const) {
  test(`success path (${auth}): Kong registers, the provisioner gets the email only, the theme redirects with monetization active`, async ({ page }) => {
    await openRegister(page, { auth });
    await fillForm(page, 'ada@example.com', auth);
    await page.getByRole('button', { name: 'Create Account' }).click();
    await page.waitForURL('**/dashboard');

    expect(fixture.state.kongRegistrations).toHaveLength(1);
    const registration = fixture.state.kongRegistrations[0]!;
    expect(registration.email).toBe('ada@example.com');
    expect(JSON.parse(registration.meta ?? '{}')).toEqual({ full_name: 'Ada Lovelace' });
    // The email plus the proof: the developer id Kong's register answer gave the page.
    expect(fixture.state.provisionBodies).toEqual([{ email: 'ada@example.com', developer_id: fixtureDeveloperId(1) }]);

    const [result] = await registerResults(page);
    expect(result?.developer).toMatchObject({ email: 'ada@example.com', status: 0 });
    expect(result?.monetization).toEqual({ status: 'active', plan: PROVISIONED.plan });
    await expect(page.locator('.portal-monetization-notice')).toHaveCount(0);
  });
}

test('shows "Setting up billing…" in the form while the provisioner works, without blocking the page', async ({ page }) => {
  const gate = deferred();
  fixture.state.provisionGate = gate.promise;
  await openRegister(page);
  await fillForm(page, 'busy@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();

  const form = page.locator('#register');
  await expect(form.getByRole('status')).toHaveText('Setting up billing…');
  await expect(form).toHaveAttribute('aria-busy', 'true');
  await expect(page.getByRole('button', { name: 'Create Account' })).toBeDisabled();
  // The main thread is free: the page still runs script while the request waits.
  expect(await page.evaluate(() => new Promise((resolve) => setTimeout(() => resolve('responsive'), 10)))).toBe('responsive');

  gate.release();
  await page.waitForURL('**/dashboard');
  expect(fixture.state.provisionBodies).toHaveLength(1);
});

test('Kong rejection passes through unchanged and the provisioner is not called', async ({ page }) => {
  fixture.state.kongMode = 'reject';
  await openRegister(page);
  await fillForm(page, 'taken@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();

  await expect(page.locator('#register-error')).toHaveText('Email already exists');
  const rejection = await page.evaluate(() => {
    const error = (window as unknown as { fixtureRejection: { message: string; xhr: { status: number }; ajaxOptions: string; throwError: string } }).fixtureRejection;
    return { keys: Object.keys(error).sort(), message: error.message, status: error.xhr.status, ajaxOptions: error.ajaxOptions, throwError: error.throwError };
  });
  expect(rejection).toEqual({ keys: ['ajaxOptions', 'message', 'throwError', 'xhr'], message: 'Email already exists', status: 409, ajaxOptions: 'error', throwError: 'Conflict' });
  expect(fixture.state.provisionBodies).toHaveLength(0);
  await expect(page.getByText('Setting up billing…')).toHaveCount(0);
  expect(page.url()).toContain('/register');
});

test('provisioner 500 then 200: one retry, then active', async ({ page }) => {
  fixture.state.provisionAnswers = [
    { status: 500, body: { error: { code: 'internal', message: 'boom' } } },
    { status: 200, body: PROVISIONED },
  ];
  await openRegister(page);
  await fillForm(page, 'retry@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await page.waitForURL('**/dashboard');

  const proven = { email: 'retry@example.com', developer_id: fixtureDeveloperId(1) };
  expect(fixture.state.provisionBodies).toEqual([proven, proven]);
  const [result] = await registerResults(page);
  expect(result?.monetization).toEqual({ status: 'active', plan: PROVISIONED.plan });
});

test('provisioner down: register resolves pending, the redirect happens and a non-blocking notice is shown', async ({ page }) => {
  fixture.state.config.provisionerUrl = fixture.deadUrl;
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await openRegister(page);
  await fillForm(page, 'down@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await page.waitForURL('**/dashboard');

  const [result] = await registerResults(page);
  expect(result?.developer).toMatchObject({ email: 'down@example.com' });
  expect(result?.monetization).toEqual({ status: 'pending' });
  const notice = page.getByRole('status').filter({ hasText: 'Billing setup will finish shortly' });
  await expect(notice).toBeVisible();
  expect(dialogs).toEqual([]);
  // Shown once: the next page is clean.
  await page.reload();
  await expect(page.locator('.portal-monetization-notice')).toHaveCount(0);
});

test('202 accepted (proof not checked): register resolves pending at once, without retries, with the notice', async ({ page }) => {
  fixture.state.provisionAnswers = [{ status: 202, body: { status: 'accepted' } }];
  fixture.state.developerStatus = 1; // pending approval: the theme stays on the page
  await openRegister(page);
  await fillForm(page, 'accepted@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();

  await expect(page.locator('#register').getByRole('status')).toContainText('Billing setup will finish shortly');
  expect(fixture.state.provisionBodies).toHaveLength(1);
  const [result] = await registerResults(page);
  expect(result?.monetization).toEqual({ status: 'pending' });
});

test('provisioner 5xx until the budget ends: retries on the schedule, then pending with the notice in the form', async ({ page }) => {
  fixture.state.provisionAnswers = [{ status: 503, body: { error: { code: 'unavailable', message: 'try later' } } }];
  fixture.state.developerStatus = 1; // pending approval: the theme stays on the page
  await openRegister(page);
  await fillForm(page, 'flaky@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();

  await expect(page.locator('#register').getByRole('status')).toContainText('Billing setup will finish shortly');
  // Three test delays: the first attempt and three retries.
  expect(fixture.state.provisionBodies).toHaveLength(4);
  await expect(page.getByRole('button', { name: 'Create Account' })).toBeEnabled();
});

test('a 4xx from the provisioner is not retried; the developer reads developer text, the operator message stays out of the page', async ({ page }) => {
  fixture.state.provisionAnswers = [{ status: 404, body: { error: { code: 'developer_not_found', message: 'No developer <b>x</b> in Kong' } } }];
  fixture.state.developerStatus = 1;
  await openRegister(page);
  await fillForm(page, 'missing@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();

  const alert = page.locator('#register').getByRole('alert');
  await expect(alert).toHaveText('Your account is created, but billing is not set up yet. Contact the API provider if your dashboard shows no plan.');
  await expect(alert.locator('b')).toHaveCount(0);
  expect(fixture.state.provisionBodies).toHaveLength(1);
  const [result] = await registerResults(page);
  expect(result?.monetization).toEqual({ status: 'failed', error: { code: 'developer_not_found', message: 'No developer <b>x</b> in Kong' } });
});

test('double submit: one provision request, both submits resolve with the same subscription', async ({ page }) => {
  const gate = deferred();
  fixture.state.provisionGate = gate.promise;
  fixture.state.developerStatus = 1; // no redirect, so both results can be read
  await openRegister(page);
  await fillForm(page, 'twice@example.com');
  await page.evaluate(() => {
    const form = document.getElementById('register') as HTMLFormElement;
    form.requestSubmit();
    form.requestSubmit();
  });
  await expect.poll(() => fixture.state.kongRegistrations.length).toBe(2);
  await expect(page.getByText('Setting up billing…')).toBeVisible();
  gate.release();

  await expect.poll(async () => (await registerResults(page)).length).toBe(2);
  const results = await registerResults(page);
  for (const result of results) expect(result.monetization).toEqual({ status: 'active', plan: PROVISIONED.plan });
  expect(fixture.state.provisionBodies).toHaveLength(1);
});

test('plan picker: replaces Kong\'s plan text input with one labelled select; the keyboard choice travels in Kong meta', async ({ page }) => {
  fixture.state.config.planField = true;
  await openRegister(page, { planInput: true });

  const picker = page.getByLabel('Plan');
  await expect(picker).toHaveJSProperty('tagName', 'SELECT');
  await expect(page.locator('[name="plan"]')).toHaveCount(1);
  await expect(picker.locator('option')).toHaveText(PLANS.map((p) => `${p.name} (${p.priceSummary})`));
  await expect(picker).toHaveValue('starter');
  await expect(page.locator('#plan-description')).toHaveText('For trying things out');

  await picker.focus();
  await page.keyboard.press('ArrowDown');
  await expect(picker).toHaveValue('growth');
  await expect(page.locator('#plan-description')).toHaveText('For production traffic');

  await fillForm(page, 'planner@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await page.waitForURL('**/dashboard');
  expect(JSON.parse(fixture.state.kongRegistrations[0]?.meta ?? '{}')).toEqual({ full_name: 'Ada Lovelace', plan: 'growth' });
  expect(fixture.state.provisionBodies).toEqual([{ email: 'planner@example.com', developer_id: fixtureDeveloperId(1) }]);
});

test('plan picker: added once when the form has no plan input but the workspace has the field', async ({ page }) => {
  fixture.state.config.planField = true;
  await openRegister(page, { planInput: false });
  await expect(page.getByLabel('Plan')).toHaveJSProperty('tagName', 'SELECT');
  await expect(page.locator('[name="plan"]')).toHaveCount(1);
  // Re-running the hook and the picker does not add a second one or wrap register twice.
  type HookedWindow = { Kong: { Auth: { register: { portalMonetizationWrapped?: boolean } } }; registerBefore?: unknown };
  await page.evaluate(() => {
    const w = window as unknown as HookedWindow;
    w.registerBefore = w.Kong.Auth.register;
  });
  await page.addScriptTag({ content: fixture.hookBlock });
  const same = await page.evaluate(() => {
    const w = window as unknown as HookedWindow;
    return w.Kong.Auth.register === w.registerBefore && w.Kong.Auth.register.portalMonetizationWrapped === true;
  });
  expect(same).toBe(true);
  await expect(page.locator('[name="plan"]')).toHaveCount(1);
});

test('plan picker: not rendered for a single plan', async ({ page }) => {
  fixture.state.config.planField = true;
  fixture.state.plans = [PLANS[0]!];
  await openRegister(page, { planInput: true });
  await expect.poll(() => fixture.state.plansRequests).toBe(1);
  await expect(page.locator('select')).toHaveCount(0);
  await expect(page.getByLabel('Plan')).toHaveJSProperty('tagName', 'INPUT');
});

test('plan picker: not rendered (and plans not fetched) without the plan field', async ({ page }) => {
  fixture.state.config.planField = false;
  await openRegister(page, { planInput: true });
  await page.waitForLoadState('networkidle');
  await expect(page.locator('select')).toHaveCount(0);
  expect(fixture.state.plansRequests).toBe(0);
});

test('a plan name holding <img onerror> renders as text and never runs', async ({ page }) => {
  const payload = '<img src=x onerror="window.__pwned=1">';
  fixture.state.config.planField = true;
  fixture.state.plans = [
    { ...PLANS[0]!, name: payload, description: `<script>window.__pwned=2</script>` },
    { ...PLANS[1]!, priceSummary: `<img src=y onerror="window.__pwned=3">` },
  ];
  await openRegister(page, { planInput: true });

  const picker = page.getByLabel('Plan');
  await expect(picker.locator('option').first()).toHaveText(`${payload} (${PLANS[0]!.priceSummary})`);
  await expect(page.locator('#plan-description')).toHaveText('<script>window.__pwned=2</script>');
  await expect(page.locator('img')).toHaveCount(0);
  await page.waitForLoadState('networkidle');
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});

test('without a config, register is Kong\'s own and the page warns once', async ({ page }) => {
  fixture.state.configScript = 'undefined';
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  await openRegister(page);
  await fillForm(page, 'noconfig@example.com');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await page.waitForURL('**/dashboard');

  const [result] = await registerResults(page);
  expect(result).not.toHaveProperty('monetization');
  expect(result?.developer).toMatchObject({ email: 'noconfig@example.com' });
  expect(fixture.state.provisionBodies).toHaveLength(0);
  // One warning on the register page (none about anything else).
  expect(warnings.filter((w) => w.includes('kong-portal-monetization')).slice(0, 1)).toEqual([expect.stringContaining('PortalMonetizationConfig is not set')]);
});
