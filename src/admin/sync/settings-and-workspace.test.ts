import { describe, expect, it } from 'vitest';
import { SettingError } from '../../shared/errors.ts';
import { activeTheme } from './active-theme.ts';
import { withOptionalPlanField, type MetaField } from './configure-workspace.ts';
import { isOurHook } from './event-hook.ts';
import { SyncRefusal } from './sync-errors.ts';
import { parseHeaders, parseProvisionerUrl } from './sync-settings.ts';
import type { KongEventHook } from '../../kong/kong-types.ts';

describe('settings', () => {
  it('parses repeatable Name: value headers and rejects malformed ones without echoing the value', () => {
    expect(parseHeaders(['X-Proxy-Auth: abc:def', 'x-trace:  1 '])).toEqual({ 'x-proxy-auth': 'abc:def', 'x-trace': '1' });
    for (const bad of ['no-colon', ': value', 'Bad Name: v', 'X-Empty:   ']) expect(() => parseHeaders([bad])).toThrow(SettingError);
    try {
      parseHeaders(['Bad Name: top-secret-value']);
    } catch (error) {
      expect((error as Error).message).not.toContain('top-secret-value');
    }
  });

  it('normalises the provisioner URL and refuses what the browser must not get', () => {
    expect(parseProvisionerUrl('https://billing.example.com/base/')).toBe('https://billing.example.com/base');
    expect(() => parseProvisionerUrl(undefined)).toThrow(/required/);
    expect(() => parseProvisionerUrl('https://user:pw@billing.example.com')).toThrow(/credentials/);
    expect(() => parseProvisionerUrl('https://billing.example.com/?a=1')).toThrow(/query/);
    expect(() => parseProvisionerUrl('javascript:alert(1)')).toThrow(/http or https/);
  });
});

describe('active theme', () => {
  it('reads theme.name, defaulting to base', () => {
    expect(activeTheme(undefined)).toBe('base');
    expect(activeTheme('name: Portal\n')).toBe('base');
    expect(activeTheme('name: Portal\r\ntheme:\r\n  name: "acme-2"\r\n')).toBe('acme-2');
  });
  it('refuses a theme name that is not a folder name, and broken YAML', () => {
    expect(() => activeTheme('theme:\n  name: ../../etc\n')).toThrow(SyncRefusal);
    expect(() => activeTheme('theme: [unclosed\n')).toThrow(SyncRefusal);
  });
});

describe('developer meta fields', () => {
  const fullName: MetaField = { label: 'Full Name', title: 'full_name', validator: { required: true, type: 'string' } };
  it('appends an optional plan field and keeps every existing field as it was', () => {
    const company: MetaField = { label: 'Company', title: 'company', validator: { required: false, type: 'string' }, extra: 1 };
    expect(withOptionalPlanField([fullName, company])).toEqual([fullName, company, { label: 'Plan', title: 'plan', validator: { required: false, type: 'string' } }]);
  });
  it('leaves an optional plan field alone and makes a required one optional', () => {
    const optional: MetaField = { label: 'Tier', title: 'plan', validator: { required: false, type: 'string' } };
    expect(withOptionalPlanField([fullName, optional])).toBeUndefined();
    const required: MetaField = { label: 'Tier', title: 'plan', validator: { required: true, type: 'string' } };
    expect(withOptionalPlanField([fullName, required])).toEqual([fullName, { label: 'Tier', title: 'plan', required: false, validator: { required: false, type: 'string' } }]);
  });
});

describe('event hooks', () => {
  const hook = (patch: Partial<KongEventHook>): KongEventHook => ({ id: '1', source: 'crud', event: 'developers', handler: 'webhook', config: { url: 'https://b.example/kong/events' }, ...patch });
  it('recognises our developers webhook by its /kong/events path only', () => {
    expect(isOurHook(hook({}))).toBe(true);
    expect(isOurHook(hook({ config: { url: 'https://other.example/prefix/kong/events/' } }))).toBe(true);
    expect(isOurHook(hook({ event: 'consumers' }))).toBe(false);
    expect(isOurHook(hook({ handler: 'log' }))).toBe(false);
    expect(isOurHook(hook({ config: { url: 'https://b.example/audit' } }))).toBe(false);
    expect(isOurHook(hook({ config: { url: 'not a url' } }))).toBe(false);
  });
});
