// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import type { BrowserConfig } from './config.ts';
import type { ProvisionOutcome } from './provision-client.ts';
import { emailFromFields } from './register-fields.ts';
import { createWrapRegister, type WrapperEnvironment } from './register-wrapper.ts';

const CONFIG: BrowserConfig = { provisionerUrl: 'https://billing.example.com', planField: false, retryDelaysMs: [] };
const ACTIVE: ProvisionOutcome = { status: 'active', result: { status: 'active', developer_status: 'approved', plan: 'starter' } };
const OPTIONS = { baseUrl: 'http://kong/default', type: { FIELDS: ['email', 'password'] }, fields: [{ name: 'email', value: ' Ada@Example.com ' }] };

function environment(overrides: Partial<WrapperEnvironment> = {}) {
  const warnings: string[] = [];
  const provisioned: string[] = [];
  const proofs: Array<string | undefined> = [];
  const env: WrapperEnvironment = {
    document,
    config: () => CONFIG,
    provision: async (_config, email, developerId) => {
      provisioned.push(email);
      proofs.push(developerId);
      return ACTIVE;
    },
    warn: (message) => warnings.push(message),
    ...overrides,
  };
  return { env, warnings, provisioned, proofs };
}

beforeEach(() => {
  document.body.innerHTML = '<form id="register"><input name="email"><button type="submit">Create</button></form>';
});

describe('emailFromFields', () => {
  it('finds the trimmed email among serializeArray() fields', () => {
    expect(emailFromFields([{ name: 'full_name', value: 'Ada' }, { name: 'email', value: ' a@b.c ' }])).toBe('a@b.c');
    expect(emailFromFields([{ name: 'email', value: '  ' }])).toBeUndefined();
    expect(emailFromFields('nope')).toBeUndefined();
  });
});

describe('wrapRegister', () => {
  it('calls Kong first with the same options and this, then adds the monetization summary', async () => {
    const { env, provisioned, proofs } = environment();
    const seen: unknown[] = [];
    const auth = {
      register(this: unknown, options: unknown) {
        seen.push(this, options);
        return Promise.resolve({ developer: { id: 'dev_1', status: 0 } });
      },
    };
    expect(createWrapRegister(env)(auth)).toBe(true);
    const result = await auth.register(OPTIONS);
    expect(seen).toEqual([auth, OPTIONS]);
    expect(result).toEqual({ developer: { id: 'dev_1', status: 0 }, monetization: { status: 'active', plan: 'starter' } });
    expect(provisioned).toEqual(['Ada@Example.com']);
    // The proof: the developer id Kong's register answer just gave the page.
    expect(proofs).toEqual(['dev_1']);
  });

  it('passes Kong\'s rejection object through as the very same object', async () => {
    const { env, provisioned } = environment();
    const rejection = { message: 'Email already exists', xhr: {}, ajaxOptions: 'error', throwError: 'Conflict' };
    const auth = { register: () => Promise.reject(rejection) };
    createWrapRegister(env)(auth);
    await expect(auth.register()).rejects.toBe(rejection);
    expect(provisioned).toEqual([]);
  });

  it('wraps once however often the hook runs', async () => {
    const { env, provisioned } = environment();
    const auth = { register: (_options?: unknown) => Promise.resolve({ developer: {} }) };
    const wrapRegister = createWrapRegister(env);
    wrapRegister(auth);
    const first = auth.register;
    expect(wrapRegister(auth)).toBe(true);
    expect(createWrapRegister(env)(auth)).toBe(true);
    expect(auth.register).toBe(first);
    await auth.register(OPTIONS);
    expect(provisioned).toHaveLength(1);
  });

  it('shares one provision request between submits of the same email, whatever its case', async () => {
    let release: (outcome: ProvisionOutcome) => void = () => undefined;
    const { env, provisioned } = environment({
      provision: (_c, email) => {
        provisioned.push(email);
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    });
    const auth = { register: (_options?: unknown) => Promise.resolve({ developer: {} }) };
    createWrapRegister(env)(auth);
    const first = auth.register(OPTIONS);
    const second = auth.register({ ...OPTIONS, fields: [{ name: 'email', value: 'ada@example.com' }] });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(document.querySelector('#register [role="status"]')?.textContent).toBe('Setting up billing…');
    release(ACTIVE);
    expect(await first).toEqual(await second);
    expect(provisioned).toHaveLength(1);
    expect(document.querySelector('#register [role="status"]')).toBeNull();
  });

  it('leaves register untouched when the config is off, and resolves pending if billing code crashes', async () => {
    const off = environment({ config: () => undefined });
    const original = (_options?: unknown) => Promise.resolve({ developer: {} });
    const auth = { register: original };
    expect(createWrapRegister(off.env)(auth)).toBe(false);
    expect(auth.register).toBe(original);

    const crashing = environment({ provision: () => Promise.reject(new Error('bug')) });
    createWrapRegister(crashing.env)(auth);
    await expect(auth.register(OPTIONS)).resolves.toEqual({ developer: {}, monetization: { status: 'pending' } });
    expect(crashing.warnings.join()).toContain('bug');
  });

  it('warns instead of throwing when there is no register to wrap', () => {
    const { env, warnings } = environment();
    expect(createWrapRegister(env)({})).toBe(false);
    expect(createWrapRegister(env)(undefined)).toBe(false);
    expect(warnings).toHaveLength(1);
  });
});
