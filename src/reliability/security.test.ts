/**
 * Reliability: the security model, end to end against the emulators. Each block pins one point of
 * the security review: POST /provision is no oracle, rate limits read X-Forwarded-For only through
 * trusted proxies, the sandbox never takes or prints a real credential, /readyz tells the public
 * nothing and is cached, the approved-only default, emails and URL credentials stay out of logs,
 * secret lengths; plus what held up (exact-origin CORS, 413 on chunked bodies, signature checks).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportLine } from '../cli/commands/start.ts';
import { runSyncCommand } from '../admin/sync/sync-command.ts';
import { createJsonLogger, silentLogger, type ProvisionLogger } from '../shared/provision-log.ts';
import { startProvisioner, type RunningProvisioner } from '../provisioner/server.ts';
import { loadProvisionerSettings, parseProvisionerEnv } from '../provisioner/settings/settings.ts';
import { kongSignature } from '../sandbox/kong/index.ts';
import { listen } from '../sandbox/running-service.ts';
import { FREE_PORTS, SANDBOX_EVENT_HOOK_SECRET, SANDBOX_STRIPE_KEY, startSandbox } from '../dev/start-sandbox.ts';
import { SANDBOX_LOG_HASH_KEY, SANDBOX_READYZ_TOKEN, SANDBOX_SIGNUP_SECRET } from '../sandbox/sandbox-credentials.ts';
import { SettingError } from '../shared/errors.ts';
import { FAST_PROVISIONER, startReliabilitySandbox, type ReliabilitySandbox } from '../testkit/reliability-sandbox.ts';

const PORTAL = 'http://portal.example.com';
let rs: ReliabilitySandbox;

beforeAll(async () => {
  rs = await startReliabilitySandbox();
});
afterAll(async () => {
  await rs?.close();
});

async function provisionerWith(env: Record<string, string> = {}, logger: ProvisionLogger = silentLogger): Promise<RunningProvisioner> {
  const settings = await loadProvisionerSettings({ ...rs.env, KONG_EVENT_HOOK_SECRET: SANDBOX_EVENT_HOOK_SECRET, PORTAL_ORIGINS: PORTAL, ...env });
  return startProvisioner(settings, { ...FAST_PROVISIONER, port: 0, logger });
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/provision`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

let sequence = 0;
function developer(status: number) {
  const email = `security-${++sequence}-${status}@example.com`;
  const created = rs.kong.state.addDeveloper('default', { email, status, meta: { full_name: 'Sec Urity' } }, { emitEvent: false });
  return { email, id: created.id };
}

const customersOf = (email: string) => rs.stripe.snapshot().customers.filter((c) => (c as { email?: string }).email === email);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  if (!condition()) throw new Error(`${what} did not happen`);
}

/** Status, body and the headers an observer could compare (dates and rate-limit counters vary per request). */
async function observable(response: Response) {
  const headers = [...response.headers.entries()].filter(([name]) => !['date', 'ratelimit', 'ratelimit-policy', 'ratelimit-remaining', 'ratelimit-reset'].includes(name));
  return { status: response.status, body: await response.text(), headers };
}

describe('POST /provision is no oracle', () => {
  let provisioner: RunningProvisioner;
  beforeAll(async () => {
    provisioner = await provisionerWith();
  });
  afterAll(() => provisioner.close());

  it('without a valid proof every email, known or not, gets the same 202 {"status":"accepted"}', async () => {
    const approved = developer(0);
    const pending = developer(1);
    const other = developer(0);
    const requests: Array<[string, unknown]> = [
      ['unknown email, no proof', { email: 'nobody-here@example.com' }],
      ['approved developer, no proof', { email: approved.email }],
      ['pending developer, no proof', { email: pending.email }],
      ['unknown email, random proof', { email: 'nobody-here@example.com', developer_id: randomUUID() }],
      ['approved developer, random proof', { email: approved.email, developer_id: randomUUID() }],
      ['approved developer, another developer\'s id', { email: approved.email, developer_id: other.id }],
      ['pending developer, another developer\'s id', { email: pending.email, developer_id: other.id }],
    ];
    const answers = [];
    for (const [name, body] of requests) answers.push({ name, ...(await observable(await post(provisioner.url, body))) });
    for (const answer of answers) {
      expect(answer.status, answer.name).toBe(202);
      expect(JSON.parse(answer.body), answer.name).toEqual({ status: 'accepted' });
      expect(answer.headers, answer.name).toEqual(answers[0]!.headers);
    }
  });

  it('an unproven request still provisions a real, approved developer (in the background) and nobody else', async () => {
    const approved = developer(0);
    const pending = developer(1);
    await post(provisioner.url, { email: approved.email });
    await post(provisioner.url, { email: pending.email });
    await post(provisioner.url, { email: 'ghost-security@example.com' });
    await waitFor(() => customersOf(approved.email).length === 1, 'background provisioning of the approved developer');
    expect(customersOf(pending.email)).toHaveLength(0);
    expect(customersOf('ghost-security@example.com')).toHaveLength(0);
  });

  it('a valid proof gets status and plan, never a Stripe id', async () => {
    const approved = developer(0);
    const response = await post(provisioner.url, { email: approved.email.toUpperCase(), developer_id: approved.id });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'active', developer_status: 'approved', plan: expect.any(String) });
    expect(Object.keys(body).filter((key) => !['status', 'developer_status', 'plan', 'moesif', 'checkout_url', 'billing'].includes(key))).toEqual([]);
    // No Stripe object id anywhere (the billing part included): customers, subscriptions, cards, invoices, items.
    expect(JSON.stringify(body)).not.toMatch(/\b(cus|sub|pm|in|si|seti|price)_[A-Za-z0-9]{6,}/);
    expect(customersOf(approved.email)).toHaveLength(1);
  });

  it('a developer_id that is no UUID is refused before Kong is asked (no path tricks)', async () => {
    const approved = developer(0);
    for (const developerId of ['../workspaces', `${approved.id}/plugins`, approved.email, '']) {
      const response = await post(provisioner.url, { email: approved.email, developer_id: developerId });
      expect(response.status, developerId).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_proof');
    }
  });
});

describe('rate limiting behind proxies (TRUSTED_PROXIES)', () => {
  const statuses = async (url: string, forwardedFor: string[]) => {
    const seen: number[] = [];
    for (const xff of forwardedFor) {
      const response = await post(url, { email: 'rate@example.com' }, { 'x-forwarded-for': xff });
      await response.arrayBuffer();
      seen.push(response.status);
    }
    return seen;
  };

  it('without trusted proxies, X-Forwarded-For is ignored: one socket, one budget', async () => {
    const provisioner = await provisionerWith({ PROVISION_RATE_LIMIT_PER_MINUTE: '2' });
    try {
      expect(await statuses(provisioner.url, ['203.0.113.1', '203.0.113.2', '203.0.113.3'])).toEqual([202, 202, 429]);
    } finally {
      await provisioner.close();
    }
  });

  it('through a trusted proxy (CIDR), each client has its own budget; IPv6 clients share their /64', async () => {
    const provisioner = await provisionerWith({ PROVISION_RATE_LIMIT_PER_MINUTE: '2', TRUSTED_PROXIES: '127.0.0.0/8,::1' });
    try {
      expect(await statuses(provisioner.url, ['203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.1'])).toEqual([202, 202, 202, 429]);
      // A client cannot add hops of its own: only the entry the trusted proxy appended counts.
      expect(await statuses(provisioner.url, ['198.51.100.1, 203.0.113.2', '198.51.100.2, 203.0.113.2'])).toEqual([202, 429]);
      expect(await statuses(provisioner.url, ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:db8:1:2:abcd::1', '2001:db8:1:3::1'])).toEqual([202, 202, 429, 202]);
    } finally {
      await provisioner.close();
    }
  });

  it('with a hop count, the entry that many hops back is the client', async () => {
    const provisioner = await provisionerWith({ PROVISION_RATE_LIMIT_PER_MINUTE: '1', TRUSTED_PROXIES: '1' });
    try {
      expect(await statuses(provisioner.url, ['spoofed, 203.0.113.7', 'other, 203.0.113.8', 'again, 203.0.113.7'])).toEqual([202, 202, 429]);
    } finally {
      await provisioner.close();
    }
  });
});

describe('npm start never takes nor prints a real credential', () => {
  it('refuses a *_live_* Stripe key in every mode, without echoing it', async () => {
    const live = 'sk_live_abcdefghijklmnop0123456789';
    for (const stripe of ['emulator', 'real'] as const) {
      const error = await startSandbox({ ports: FREE_PORTS, services: ['kong'], stripe, env: { STRIPE_SECRET_KEY: live } }).then(
        (sandbox) => sandbox.close().then(() => undefined),
        (failure: unknown) => failure,
      );
      expect(error, stripe).toBeInstanceOf(SettingError);
      expect(String((error as Error).message), stripe).not.toContain(live);
    }
  });

  it('emulator mode ignores STRIPE_SECRET_KEY and KONG_ADMIN_TOKEN from the shell, and the export line shows no secret of the shell', async () => {
    const shell = { STRIPE_SECRET_KEY: 'sk_test_the_developers_own_key_123', KONG_ADMIN_TOKEN: 'the-real-admin-token-9876', MOESIF_APPLICATION_ID: 'real-moesif-app-id' };
    const sandbox = await startSandbox({ ports: FREE_PORTS, services: ['kong'], eventHook: false, env: shell });
    try {
      expect(sandbox.env.STRIPE_SECRET_KEY).toBe(SANDBOX_STRIPE_KEY);
      expect(sandbox.env.KONG_ADMIN_TOKEN).toBeUndefined();
      const line = exportLine(sandbox.env);
      for (const secret of Object.values(shell)) expect(line).not.toContain(secret);
      expect(line).toContain(`STRIPE_SECRET_KEY=${SANDBOX_STRIPE_KEY}`);
    } finally {
      await sandbox.close();
    }
  });

  it('--stripe real uses the test key it was given but prints only a reference to it', () => {
    const line = exportLine({ STRIPE_SECRET_KEY: 'sk_test_the_developers_own_key_123', KONG_ADMIN_TOKEN: 'tok-abcdefghijkl', KONG_ADMIN_URL: 'http://127.0.0.1:8001' });
    expect(line).toBe('export STRIPE_SECRET_KEY="$STRIPE_SECRET_KEY" KONG_ADMIN_TOKEN="$KONG_ADMIN_TOKEN" KONG_ADMIN_URL=http://127.0.0.1:8001');
  });
});

describe('/readyz', () => {
  it('answers the public {status} only, details behind READYZ_TOKEN, and probes at most once per cache window', async () => {
    const token = 'readyz-token-for-the-test-0001';
    const provisioner = await provisionerWith({ READYZ_TOKEN: token });
    try {
      const before = rs.stripe.counters.count('GET /v1/prices');
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${provisioner.url}/readyz`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ status: 'ready' });
      }
      expect(rs.stripe.counters.count('GET /v1/prices') - before).toBe(1);
      const wrong = await fetch(`${provisioner.url}/readyz`, { headers: { authorization: 'Bearer not-the-token' } });
      expect(await wrong.json()).toEqual({ status: 'ready' });
      const detailed = await fetch(`${provisioner.url}/readyz`, { headers: { authorization: `Bearer ${token}` } });
      expect(await detailed.json()).toMatchObject({ status: 'ready', checks: { kong: { ok: true }, stripe: { ok: true }, moesif: { ok: true } } });
    } finally {
      await provisioner.close();
    }
  });

  it('refuses user:password@ in every URL setting, without echoing the password', () => {
    for (const name of ['KONG_ADMIN_URL', 'STRIPE_API_BASE', 'MOESIF_API_BASE']) {
      let error: unknown;
      try {
        parseProvisionerEnv({ ...rs.env, [name]: 'http://admin:hunter2-password@127.0.0.1:9' });
      } catch (failure) {
        error = failure;
      }
      expect(error, name).toBeInstanceOf(SettingError);
      expect((error as SettingError).setting).toBe(name);
      expect((error as SettingError).describe()).not.toContain('hunter2');
    }
  });
});

describe('who gets provisioned: approved by default', () => {
  it('a proven but unverified developer waits; the event hook\'s approval provisions them', async () => {
    expect(parseProvisionerEnv({ ...rs.env, PROVISION_STATUSES: '' }).provisionStatuses).toEqual([0]);
    const provisioner = await provisionerWith();
    try {
      const waiting = developer(5);
      const response = await post(provisioner.url, { email: waiting.email, developer_id: waiting.id });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'awaiting_approval', developer_status: 'unverified' });
      expect(customersOf(waiting.email)).toHaveLength(0);

      const body = JSON.stringify({ source: 'crud', event: 'developers', operation: 'update', entity: { id: waiting.id, email: waiting.email, status: 0 }, old_entity: { id: waiting.id, status: 5 } });
      rs.kong.state.updateDeveloper('default', waiting.email, { status: 0 });
      const hook = await fetch(`${provisioner.url}/kong/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kong-signature': `sha1=${kongSignature(body, SANDBOX_EVENT_HOOK_SECRET)}` }, body });
      expect(await hook.json()).toMatchObject({ action: 'provisioned' });
      expect(customersOf(waiting.email)).toHaveLength(1);
    } finally {
      await provisioner.close();
    }
  });
});

describe('emails stay out of logs', () => {
  it('a Kong failure is logged without the email or its path, hashed with the keyed HMAC (LOG_HASH_KEY)', async () => {
    // A Kong that fails every read and names the path, as a proxy in front of Kong would.
    const brokenKong = await listen('broken-kong', (request) =>
      Response.json({ message: `upstream failed for ${new URL(request.url).pathname} (http://admin:pw@kong.internal:8001)` }, { status: 500 }),
    );
    const lines: string[] = [];
    const key = 'log-hash-key-for-the-test-0001';
    const provisioner = await provisionerWith({ KONG_ADMIN_URL: brokenKong.url, LOG_HASH_KEY: key }, createJsonLogger((line) => lines.push(line)));
    const email = 'Logged.Person@example.com';
    try {
      expect((await post(provisioner.url, { email })).status).toBe(202);
      await waitFor(() => lines.some((line) => line.includes('"event":"provision"')), 'the provision log line');
    } finally {
      await provisioner.close();
      await brokenKong.close();
    }
    const text = lines.join('\n');
    expect(text).not.toMatch(/logged\.person/i);
    expect(text).not.toContain(encodeURIComponent(email));
    expect(text).not.toContain(':pw@');
    const line = JSON.parse(lines.find((l) => l.includes('"event":"provision"'))!) as { email_hash: string };
    expect(line.email_hash).toBe(createHmac('sha256', key).update(email.toLowerCase()).digest('hex').slice(0, 16));
    expect(line.email_hash).not.toBe(createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 16));
  });
});

describe('secret lengths', () => {
  it('the provisioner refuses an event hook secret shorter than 16 characters, as sync does', () => {
    expect(() => parseProvisionerEnv({ ...rs.env, KONG_EVENT_HOOK_SECRET: 'fifteen-chars-x' })).toThrow(/KONG_EVENT_HOOK_SECRET: is shorter than 16 characters/);
    expect(parseProvisionerEnv({ ...rs.env, KONG_EVENT_HOOK_SECRET: 'sixteen-chars-xx' }).eventHookSecret).toBe('sixteen-chars-xx');
  });
});

describe('production refuses the sandbox\'s published settings (issue 17.7)', () => {
  const production = { MOESIF_APPLICATION_ID: 'moesif-app', KONG_ADMIN_URL: 'http://127.0.0.1:8001', PLANS_FILE: 'plans.json' };
  const hosted = { SIGNUP_MODE: 'hosted', SIGNUP_PUBLIC_URL: 'https://signup.example.com', SMTP_URL: 'smtp://127.0.0.1:2525' };
  const published = {
    SIGNUP_SECRET: SANDBOX_SIGNUP_SECRET,
    KONG_EVENT_HOOK_SECRET: SANDBOX_EVENT_HOOK_SECRET,
    READYZ_TOKEN: SANDBOX_READYZ_TOKEN,
    LOG_HASH_KEY: SANDBOX_LOG_HASH_KEY,
  };
  const refusal = (env: NodeJS.ProcessEnv, marker?: { sandbox: boolean }) => {
    try {
      parseProvisionerEnv(env, marker);
      return undefined;
    } catch (error) {
      return error as SettingError;
    }
  };

  it('next to a live key: every published secret and TRUSTED_PROXIES=0.0.0.0/0 named at once, with the fix, no value shown', () => {
    const env = { ...production, ...hosted, STRIPE_SECRET_KEY: 'sk_live_abcdefghijklmnop0123456789', ...published, TRUSTED_PROXIES: '10.0.0.0/8, 0.0.0.0/0' };
    for (const marker of [undefined, { sandbox: true }]) {
      const error = refusal(env, marker);
      expect(error).toBeInstanceOf(SettingError);
      expect(error!.setting).toBe('SIGNUP_SECRET, KONG_EVENT_HOOK_SECRET, READYZ_TOKEN, LOG_HASH_KEY, TRUSTED_PROXIES');
      const text = error!.describe();
      expect(text).toMatch(/openssl rand -hex 32/);
      expect(text).toMatch(/"0\.0\.0\.0\/0" trusts \(nearly\) every address/);
      expect(text).not.toContain('10.0.0.0/8"');
      for (const value of [...Object.values(published), 'sk_live_abcdefghijklmnop0123456789']) expect(text).not.toContain(value);
    }
  });

  it('outside npm start a test key is production too; ::/0 is refused like 0.0.0.0/0; own values pass', () => {
    const ownKey = { ...production, STRIPE_SECRET_KEY: 'sk_test_the_operators_own_key_1' };
    expect(refusal({ ...ownKey, READYZ_TOKEN: SANDBOX_READYZ_TOKEN })?.setting).toBe('READYZ_TOKEN');
    expect(refusal({ ...ownKey, TRUSTED_PROXIES: '::/0' })?.setting).toBe('TRUSTED_PROXIES');
    expect(refusal({ ...ownKey, LOG_HASH_KEY: SANDBOX_EVENT_HOOK_SECRET })?.setting).toBe('LOG_HASH_KEY');
    expect(refusal({ ...ownKey, ...hosted, SIGNUP_SECRET: 'x'.repeat(40), READYZ_TOKEN: 'readyz-token-of-my-own-000', TRUSTED_PROXIES: '10.0.0.0/8,fd00::/8,1.2.3.4' })).toBeUndefined();
  });

  it('the sandbox keeps its values: started by npm start (the marker), or a CLI holding the emulator\'s Stripe key', () => {
    const env = { ...production, ...hosted, ...published, TRUSTED_PROXIES: '0.0.0.0/0' };
    expect(refusal({ ...env, STRIPE_SECRET_KEY: 'sk_test_the_operators_own_key_1' }, { sandbox: true })).toBeUndefined();
    expect(refusal({ ...env, STRIPE_SECRET_KEY: SANDBOX_STRIPE_KEY })).toBeUndefined();
  });
});

describe('what held up stays held', () => {
  let provisioner: RunningProvisioner;
  beforeAll(async () => {
    provisioner = await provisionerWith();
  });
  afterAll(() => provisioner.close());

  it('CORS allows the exact portal origin only: no null, no suffix or prefix tricks', async () => {
    const ok = await fetch(`${provisioner.url}/provision`, { method: 'OPTIONS', headers: { origin: PORTAL, 'access-control-request-method': 'POST' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe(PORTAL);
    for (const origin of ['null', `${PORTAL}.evil.test`, 'http://evilportal.example.com', `${PORTAL}:8080`, 'https://portal.example.com', 'http://PORTAL.example.com.']) {
      const preflight = await fetch(`${provisioner.url}/provision`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin'), origin).toBeNull();
      const posted = await post(provisioner.url, { email: 'cors@example.com' }, { origin });
      expect(posted.status, origin).toBe(403);
    }
  });

  it('answers 413 to a chunked body over the limit (no content-length to trust)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${provisioner.url}/provision`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.write('{"email":"chunked@example.com","pad":"');
      for (let i = 0; i < 20; i++) request.write('x'.repeat(1024));
      request.end('"}');
    });
    expect(status).toBe(413);
  });

  it('event signatures: wrong, truncated, other-case or unprefixed ones are refused with 401', async () => {
    const body = JSON.stringify({ source: 'crud', event: 'developers', operation: 'create', entity: { id: randomUUID(), status: 0 } });
    const right = kongSignature(body, SANDBOX_EVENT_HOOK_SECRET);
    for (const signature of [`sha1=${right.slice(0, -1)}`, `sha1=${right.toUpperCase()}x`, `sha1=${'0'.repeat(40)}`, `sha256=${right}`, '']) {
      const response = await fetch(`${provisioner.url}/kong/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kong-signature': signature }, body });
      expect(response.status, signature).toBe(401);
    }
  });
});

describe('sync never prints the admin token nor --header values', () => {
  it('even when Kong echoes every request header back in its error', async () => {
    const token = 'admin-token-that-must-stay-hidden';
    const proxySecret = 'proxy-auth-value-that-must-stay-hidden';
    const echoingKong = await listen('echoing-kong', (request) =>
      Response.json({ message: `denied: ${JSON.stringify(Object.fromEntries(request.headers.entries()))}` }, { status: 403 }),
    );
    const scratch = await mkdtemp(join(tmpdir(), 'kpm-security-sync-'));
    let output = '';
    try {
      const code = await runSyncCommand(['--provisioner-url', 'https://billing.example.com', '--header', `X-Proxy-Auth: ${proxySecret}`], {
        env: { KONG_ADMIN_URL: echoingKong.url, KONG_ADMIN_TOKEN: token },
        stdout: (text) => void (output += text),
        stderr: (text) => void (output += text),
        interactive: false,
        backupRoot: join(scratch, 'backups'),
      });
      expect(code).not.toBe(0);
    } finally {
      await echoingKong.close();
      await rm(scratch, { recursive: true, force: true });
    }
    expect(output).toMatch(/denied|403|token/i);
    expect(output).not.toContain(token);
    expect(output).not.toContain(proxySecret);
  });
});
