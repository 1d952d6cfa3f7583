import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingError } from '../../shared/errors.ts';
import { parsePlans } from '../../shared/plans.ts';
import { billingWarnings } from '../server.ts';
import { loadProvisionerSettings, parseProvisionerEnv } from './settings.ts';

const minimal = {
  STRIPE_SECRET_KEY: 'sk_test_abc123',
  MOESIF_APPLICATION_ID: 'moesif-app',
  KONG_ADMIN_URL: 'http://127.0.0.1:8001',
  PLANS_FILE: 'plans.json',
};

function settingError(env: NodeJS.ProcessEnv): SettingError {
  try {
    parseProvisionerEnv(env);
  } catch (error) {
    if (error instanceof SettingError) return error;
    throw error;
  }
  throw new Error('expected a SettingError');
}

describe('parseProvisionerEnv', () => {
  it('applies the documented defaults', () => {
    const settings = parseProvisionerEnv(minimal);
    expect(settings.port).toBe(8787);
    expect(settings.kong.workspace).toBe('default');
    expect(settings.moesif.apiBase).toBe('https://api.moesif.net');
    expect(settings.moesif.companyIdSource).toBe('subscription');
    expect(settings.stripe).toMatchObject({ mode: 'test', maxWritesPerSecond: 20, apiBase: undefined });
    expect(settings.provisionStatuses).toEqual([0]);
    expect(settings.portalOrigins).toEqual([]);
    expect(settings.eventHookSecret).toBeUndefined();
    expect(settings.rateLimitPerMinute).toBe(30);
    expect(settings.trustedProxies).toEqual({ kind: 'none' });
    expect(settings.readyzToken).toBeUndefined();
    expect(settings.logHashKey?.source).toBe('derived from STRIPE_SECRET_KEY');
    expect(settings.logHashKey?.key).not.toContain(minimal.STRIPE_SECRET_KEY);
  });

  it('defaults to 80 writes per second for live keys', () => {
    expect(parseProvisionerEnv({ ...minimal, STRIPE_SECRET_KEY: 'rk_live_xyz' }).stripe).toMatchObject({ mode: 'live', maxWritesPerSecond: 80 });
  });

  it('reads every optional variable', () => {
    const settings = parseProvisionerEnv({
      ...minimal,
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      STRIPE_MAX_WRITES_PER_SECOND: '5',
      MOESIF_API_BASE: 'http://127.0.0.1:9500/',
      MOESIF_COMPANY_ID_SOURCE: 'customer',
      PORTAL_ORIGINS: 'http://localhost:8003, https://portal.example.com',
      PROVISIONER_PORT: '0',
      KONG_EVENT_HOOK_SECRET: 'hook-secret-0123456789',
      PROVISION_STATUSES: 'approved,4',
      KONG_WORKSPACE: 'team-a',
      TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8',
      READYZ_TOKEN: 'readyz-token-0123456789',
      LOG_HASH_KEY: 'log-hash-key-0123456789',
    });
    expect(settings.trustedProxies).toMatchObject({ kind: 'list', entries: ['10.0.0.0/8', 'fd00::/8'] });
    expect(settings.readyzToken).toBe('readyz-token-0123456789');
    expect(settings.logHashKey).toEqual({ key: 'log-hash-key-0123456789', source: 'LOG_HASH_KEY' });
    expect(settings.stripe.apiBase?.port).toBe('12111');
    expect(settings.stripe.maxWritesPerSecond).toBe(5);
    expect(settings.moesif).toMatchObject({ apiBase: 'http://127.0.0.1:9500', companyIdSource: 'customer' });
    expect(settings.portalOrigins).toEqual(['http://localhost:8003', 'https://portal.example.com']);
    expect(settings.port).toBe(0);
    expect(settings.eventHookSecret).toBe('hook-secret-0123456789');
    expect(settings.provisionStatuses).toEqual([0, 4]);
    expect(settings.kong.workspace).toBe('team-a');
  });

  it.each([
    [{ STRIPE_SECRET_KEY: undefined }, 'STRIPE_SECRET_KEY', /not set/],
    [{ STRIPE_SECRET_KEY: 'pk_test_123' }, 'STRIPE_SECRET_KEY', /secret or restricted key/],
    [{ MOESIF_APPLICATION_ID: undefined }, 'MOESIF_APPLICATION_ID', /not set/],
    [{ PLANS_FILE: undefined }, 'PLANS_FILE', /not set/],
    [{ STRIPE_API_BASE: 'ftp://x' }, 'STRIPE_API_BASE', /http/],
    [{ STRIPE_API_BASE: 'http://127.0.0.1:12111/v1' }, 'STRIPE_API_BASE', /must not have a path/],
    [{ PORTAL_ORIGINS: 'http://localhost:8003/portal' }, 'PORTAL_ORIGINS', /origin/],
    [{ PROVISIONER_PORT: '70000' }, 'PROVISIONER_PORT', /port/],
    [{ PROVISION_STATUSES: 'approved,banned' }, 'PROVISION_STATUSES', /banned/],
    [{ MOESIF_COMPANY_ID_SOURCE: 'account' }, 'MOESIF_COMPANY_ID_SOURCE', /subscription/],
    [{ STRIPE_MAX_WRITES_PER_SECOND: 'fast' }, 'STRIPE_MAX_WRITES_PER_SECOND', /not a number/],
    [{ KONG_ADMIN_URL: undefined }, 'KONG_ADMIN_URL', /not set/],
    [{ KONG_ADMIN_URL: 'http://admin:pw@127.0.0.1:8001' }, 'KONG_ADMIN_URL', /user:password@/],
    [{ MOESIF_API_BASE: 'https://u:p@api.moesif.net' }, 'MOESIF_API_BASE', /http/],
    [{ STRIPE_API_BASE: 'http://u:p@127.0.0.1:12111' }, 'STRIPE_API_BASE', /user:password@/],
    [{ KONG_EVENT_HOOK_SECRET: 'short' }, 'KONG_EVENT_HOOK_SECRET', /16 characters/],
    [{ READYZ_TOKEN: 'short' }, 'READYZ_TOKEN', /16 characters/],
    [{ LOG_HASH_KEY: 'short' }, 'LOG_HASH_KEY', /16 characters/],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, 'TRUSTED_PROXIES', /CIDR/],
    [{ TRUSTED_PROXIES: 'proxy.example.com' }, 'TRUSTED_PROXIES', /CIDR/],
    [{ TRUSTED_PROXIES: '0' }, 'TRUSTED_PROXIES', /hop count/],
    [{ KONG_WORKSPACE: '..' }, 'KONG_WORKSPACE', /workspace name/],
  ])('names the bad variable: %o', (patch, variable, message) => {
    const error = settingError({ ...minimal, ...patch });
    expect(error.setting).toBe(variable);
    expect(error.message).toMatch(message);
    expect(error.code).toBe('invalid_setting');
  });
});

describe('parseProvisionerEnv: several bad variables', () => {
  it('reports every one in a single run, each with its fix', () => {
    const error = settingError({ PROVISION_RATE_LIMIT_PER_MINUTE: 'fast' });
    expect(error.code).toBe('invalid_setting');
    for (const variable of ['STRIPE_SECRET_KEY', 'MOESIF_APPLICATION_ID', 'PLANS_FILE', 'KONG_ADMIN_URL', 'PROVISION_RATE_LIMIT_PER_MINUTE'])
      expect(error.message, variable).toMatch(new RegExp(`^  ${variable}: `, 'm'));
    expect(error.message).toContain('5 settings are missing or invalid');
    expect(error.message).toContain('fix: copy the Collector Application Id from Moesif');
  });
});

describe('loadProvisionerSettings', () => {
  it('loads the plans file named by PLANS_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpm-settings-'));
    const file = join(dir, 'plans.json');
    writeFileSync(file, JSON.stringify({ product: { name: 'API' }, plans: [{ id: 'basic', name: 'Basic', default: true, price: { id: 'price_123' } }] }));
    const settings = await loadProvisionerSettings({ ...minimal, PLANS_FILE: file });
    expect(settings.plans.plans.map((p) => p.id)).toEqual(['basic']);
  });

  it('names the plans file when it cannot be read', async () => {
    await expect(loadProvisionerSettings({ ...minimal, PLANS_FILE: '/nonexistent/plans.json' })).rejects.toThrow(/\/nonexistent\/plans\.json/);
  });
});

describe('billingWarnings', () => {
  it('warns when Checkout plans have no dashboard to return to, and when webhooks are off', async () => {
    const plans = parsePlans(JSON.parse(await readFile('plans.example.json', 'utf8')));
    const base = parseProvisionerEnv({ STRIPE_SECRET_KEY: 'sk_test_x', MOESIF_APPLICATION_ID: 'm', KONG_ADMIN_URL: 'http://127.0.0.1:8001', PLANS_FILE: 'plans.example.json' });
    const warnings = billingWarnings({ ...base, plans });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/plans starter, bundle, growth, volume collect a card through Checkout, but PORTAL_DASHBOARD_URL is not set/);
    expect(warnings[1]).toMatch(/STRIPE_WEBHOOK_SECRET is not set/);
    const configured = { ...base, plans, billing: { ...base.billing!, dashboardUrl: 'https://portal.example/default/dashboard', webhookSecret: 'whsec_abcdefgh' } };
    expect(billingWarnings(configured)).toEqual([]);
    expect(billingWarnings({ ...base, plans, billing: { ...base.billing!, paymentCollection: 'none', webhookSecret: 'whsec_abcdefgh' } })).toEqual([]);
  });
});
