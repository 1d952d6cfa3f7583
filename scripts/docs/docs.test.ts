import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVELOPER_STATUS } from '../../src/kong/kong-types.ts';
import { HOSTED_SIGNUP_VARIABLES, parseHostedSignupEnv } from '../../src/provisioner/settings/hosted-settings.ts';
import { parseProvisionerEnv, PROVISIONER_VARIABLES } from '../../src/provisioner/settings/settings.ts';
import { ERROR_CODES } from '../../src/shared/error-codes.ts';
import { generatedDocs, ROOT } from './gen-docs.ts';
import { environmentVariablesInSources, errorCodesInSources } from './source-scan.ts';

describe('docs/', () => {
  it('has every generated section up to date (else: npm run docs)', () => {
    const stale = generatedDocs().filter((doc) => doc.current !== doc.fresh).map((doc) => `${doc.file} is stale: run npm run docs`);
    expect(stale).toEqual([]);
  }, 60_000);

  it('documents every error code the product raises or answers with, and no code it no longer uses', () => {
    const inSources = errorCodesInSources(ROOT);
    const catalogued = new Set(ERROR_CODES.map((entry) => entry.code));
    const undocumented = [...inSources].filter(([code]) => !catalogued.has(code)).map(([code, file]) => `${code} (${file}): add it to src/shared/error-codes.ts`);
    const unused = [...catalogued].filter((code) => !inSources.has(code)).map((code) => `${code}: no longer raised; remove it from src/shared/error-codes.ts`);
    expect([...undocumented, ...unused]).toEqual([]);
    expect(ERROR_CODES.length).toBe(catalogued.size);
  });

  it('names every environment variable the product reads in docs/configuration.md', () => {
    const configuration = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const missing = [...environmentVariablesInSources(ROOT)].filter(([name]) => !configuration.includes(`\`${name}\``)).map(([name, file]) => `${name} (read in ${file})`);
    expect(missing).toEqual([]);
  });
});

describe('README.md', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('fits in 8 KB and starts with the two commands of the developers\' guide', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(8 * 1024);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock.split('\n')[0]).toMatch(/^npm ci && npm start\b/);
    expect(firstBlock.split('\n')[1]).toMatch(/^npm test\b/);
  });

  it('links to every docs page, and every docs link resolves', () => {
    const linked = [...readme.matchAll(/\]\((docs\/[^)#]+)(?:#[^)]*)?\)/g)].map((match) => match[1] as string);
    expect(linked.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
    const pages = readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
    expect(pages.filter((page) => !linked.includes(page))).toEqual([]);
  });

  it('has no dead link or anchor between README.md and docs/', () => {
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const slug = (heading: string) => heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const anchors = (file: string) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^#+ (.+)$/gm)].map((match) => slug(match[1] as string));
    const dead: string[] = [];
    const sources = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((entry) => entry.endsWith('.md')).map((entry) => `docs/${entry}`)];
    for (const source of sources) {
      const text = readFileSync(join(ROOT, source), 'utf8');
      for (const match of text.matchAll(/\]\(((?!https?:)[^)#\s]*)(?:#([^)]*))?\)/g)) {
        const target = match[1] ? join(source === 'README.md' ? '' : 'docs', match[1]) : source;
        if (!existsSync(join(ROOT, target))) dead.push(`${source}: ${match[1]}`);
        else if (match[2] && target.endsWith('.md') && !anchors(target).includes(match[2])) dead.push(`${source}: ${target}#${match[2]}`);
      }
    }
    expect(dead).toEqual([]);
  });
});

describe('the settings lists the docs are generated from', () => {
  const REQUIRED = { STRIPE_SECRET_KEY: 'sk_test_docs_defaults', MOESIF_APPLICATION_ID: 'moesif-app', KONG_ADMIN_URL: 'http://127.0.0.1:8001', PLANS_FILE: 'plans.example.json' };
  const claimed = (list: ReadonlyArray<{ name: string; default: string }>, name: string) => list.find((variable) => variable.name === name)?.default;

  it('state the defaults the provisioner applies', () => {
    const settings = parseProvisionerEnv({ ...REQUIRED });
    const applied: Record<string, string> = {
      STRIPE_API_BASE: settings.stripe.apiBase?.href ?? 'https://api.stripe.com',
      MOESIF_API_BASE: settings.moesif.apiBase,
      MOESIF_COMPANY_ID_SOURCE: settings.moesif.companyIdSource,
      KONG_WORKSPACE: settings.kong.workspace,
      PROVISIONER_PORT: String(settings.port),
      PROVISION_STATUSES: settings.provisionStatuses.map((status) => Object.entries(DEVELOPER_STATUS).find(([, value]) => value === status)?.[0]).join(),
      PROVISION_RATE_LIMIT_PER_MINUTE: String(settings.rateLimitPerMinute),
      PAYMENT_COLLECTION: settings.billing?.paymentCollection ?? '',
      BILLING_GRACE_DAYS: String(settings.billing?.graceDays),
      ON_DEVELOPER_REMOVED: settings.billing?.onDeveloperRemoved ?? '',
    };
    for (const [name, value] of Object.entries(applied)) expect(claimed(PROVISIONER_VARIABLES, name), name).toBe(value);
    expect(claimed(PROVISIONER_VARIABLES, 'STRIPE_MAX_WRITES_PER_SECOND')).toContain(`${settings.stripe.maxWritesPerSecond} (test keys)`);
    const live = parseProvisionerEnv({ ...REQUIRED, STRIPE_SECRET_KEY: 'sk_live_docs_defaults' });
    expect(claimed(PROVISIONER_VARIABLES, 'STRIPE_MAX_WRITES_PER_SECOND')).toContain(`${live.stripe.maxWritesPerSecond} (live keys)`);
  });

  it('state the defaults the hosted signup applies', () => {
    expect(parseHostedSignupEnv({})).toBeUndefined();
    expect(claimed(HOSTED_SIGNUP_VARIABLES, 'SIGNUP_MODE')).toBe('portal');
    const hosted = parseHostedSignupEnv({ SIGNUP_MODE: 'hosted', SIGNUP_PUBLIC_URL: 'https://signup.example.com', SIGNUP_SECRET: 'x'.repeat(32), SMTP_URL: 'smtp://127.0.0.1:2525' });
    const applied: Record<string, string> = {
      SIGNUP_PRODUCT_NAME: hosted?.productName ?? '',
      SIGNUP_ACCENT_COLOR: hosted?.accentColor ?? '',
      SIGNUP_LINK_TTL_MINUTES: String(hosted?.linkTtlMinutes),
      SIGNUP_EMAILS_PER_HOUR: String(hosted?.emailsPerHour),
      SIGNUP_RATE_LIMIT_PER_MINUTE: String(hosted?.requestsPerMinute),
    };
    for (const [name, value] of Object.entries(applied)) expect(claimed(HOSTED_SIGNUP_VARIABLES, name), name).toBe(value);
    expect(hosted?.emailFrom).toBe('no-reply@signup.example.com');
  });
});
