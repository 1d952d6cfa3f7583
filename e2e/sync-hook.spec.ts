/**
 * The sync command's patched kong.auth.js in a real browser: sync installs the built bundle into a
 * stand-in theme served by the Kong emulator; the portal's register form then still registers
 * through Kong's original register (form POST to the portal API) and afterwards calls the provisioner.
 * After --uninstall the same page registers without any provisioner call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { KongAdminClient } from '../src/kong/kong-admin-client.ts';
import { syncBundle } from '../src/admin/sync/sync-bundle.ts';
import type { RegisterShape } from '../src/testkit/theme-fixtures.ts';
import { seedStandInTheme } from '../src/sandbox/kong/seed-theme.ts';
import { standInTheme, startStandInPortal, type StandInPortal } from './fixtures/sync/stand-in-portal.ts';

let backupRoot: string;
test.beforeAll(async () => {
  backupRoot = await mkdtemp(join(tmpdir(), 'sync-hook-e2e-'));
});
test.afterAll(async () => {
  await rm(backupRoot, { recursive: true, force: true });
});

async function sync(portal: StandInPortal, options: { uninstall?: boolean } = {}) {
  const client = new KongAdminClient({ adminUrl: portal.kong.adminUrl, workspace: 'default', attempts: 1 });
  return syncBundle({ client, provisionerUrl: portal.provisioner.url, backupRoot, secretEnv: {}, ...options });
}

async function register(page: Page, portal: StandInPortal, email: string): Promise<Record<string, unknown>> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(portal.registerUrl);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByLabel('Full Name').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await expect(page.locator('#outcome')).not.toBeEmpty();
  expect(errors).toEqual([]);
  return JSON.parse((await page.locator('#outcome').textContent()) ?? '{}') as Record<string, unknown>;
}

const variants: Array<{ name: string; shape: RegisterShape; crlf: boolean }> = [
  { name: 'Kong.Auth.register = function, LF', shape: 'assignment', crlf: false },
  { name: 'Auth = { register: function }, CRLF', shape: 'object-property', crlf: true },
];

for (const variant of variants) {
  test(`patched kong.auth.js (${variant.name}) registers through Kong, then calls the provisioner`, async ({ page }) => {
    const theme = standInTheme({ shape: variant.shape, crlf: variant.crlf });
    const portal = await startStandInPortal(theme);
    try {
      const installed = await sync(portal);
      expect(installed.actions.map((a) => a.action)).toEqual(['created', 'updated', 'updated']);

      const outcome = await register(page, portal, 'ada@example.com');
      // Kong's original register created the developer through the portal API, with the form's meta.
      const developer = portal.kong.state.getDeveloper('default', 'ada@example.com');
      expect(developer).toBeDefined();
      expect(JSON.parse(developer?.meta ?? '{}')).toEqual({ full_name: 'Ada Lovelace' });
      // Then the provisioner was called once, with the email and Kong's developer id (the proof), after Kong had the developer.
      expect(portal.provisionCalls).toEqual([{ body: { email: 'ada@example.com', developer_id: developer?.id }, developerExisted: true }]);
      expect(outcome.resolved).toMatchObject({ developer: { email: 'ada@example.com', status: 0 }, monetization: { status: 'active', plan: 'starter' } });

      // Uninstall: the theme files are back byte for byte and the page no longer calls the provisioner.
      await sync(portal, { uninstall: true });
      for (const [path, contents] of Object.entries(theme)) expect(portal.kong.state.getFile('default', path)?.contents).toBe(contents);
      const plain = await register(page, portal, 'grace@example.com');
      expect(plain.resolved).toMatchObject({ developer: { email: 'grace@example.com' } });
      expect(plain.resolved).not.toHaveProperty('monetization');
      expect(portal.provisionCalls).toHaveLength(1);
    } finally {
      await portal.close();
    }
  });
}

test('a kong.auth.js hook without monetization.js on the page (interrupted install) leaves register working', async ({ page }) => {
  const theme = standInTheme();
  const portal = await startStandInPortal(theme);
  try {
    await sync(portal);
    // Simulate a sync interrupted after the kong.auth.js write: required-scripts.html still pristine.
    portal.kong.state.putFile('default', 'themes/base/partials/theme/required-scripts.html', theme['themes/base/partials/theme/required-scripts.html'] ?? '');
    const outcome = await register(page, portal, 'linus@example.com');
    expect(outcome.resolved).toMatchObject({ developer: { email: 'linus@example.com' } });
    expect(portal.provisionCalls).toEqual([]);
  } finally {
    await portal.close();
  }
});

test("the emulator's stand-in base theme: signup through the portal's own register page reaches the provisioner, then the dashboard", async ({ page }) => {
  const portal = await startStandInPortal((kong) => void seedStandInTheme(kong));
  try {
    const before = new Map([...portal.kong.state.requireWs('default').files.values()].map((file) => [file.path, file.contents]));
    await sync(portal);
    await page.goto(portal.registerUrl);
    await page.fill('#register input[name=email]', 'stand-in@example.com');
    await page.fill('#register input[name=password]', 'pw-stand-in-1');
    await page.fill('#register input[name=full_name]', 'Stand In');
    await Promise.all([page.waitForURL(`${portal.kong.portalUrl}/default/dashboard`), page.click('#register-submit')]);
    expect(portal.kong.state.getDeveloper('default', 'stand-in@example.com')?.status).toBe(0);
    const standIn = portal.kong.state.getDeveloper('default', 'stand-in@example.com');
    // The signup's call; the dashboard's billing panel may already have sent the same proven call.
    const expected = { body: { email: 'stand-in@example.com', developer_id: standIn?.id }, developerExisted: true };
    expect(portal.provisionCalls[0]).toEqual(expected);
    expect(portal.provisionCalls.length).toBeLessThanOrEqual(2);
    for (const call of portal.provisionCalls) expect(call).toEqual(expected);

    await sync(portal, { uninstall: true });
    const after = new Map([...portal.kong.state.requireWs('default').files.values()].map((file) => [file.path, file.contents]));
    expect(after).toEqual(before);
  } finally {
    await portal.close();
  }
});
