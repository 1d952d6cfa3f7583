/**
 * Reliability: a bad-input sweep. Every provisioner endpoint and every command gets malformed,
 * oversize, wrongly typed and injection input; each must answer with a clear error (a stable
 * code or the name of the bad option, no stack trace) and write nothing anywhere: Kong files,
 * developers, workspace config and hooks, Stripe, Moesif, theme/ and local backups are
 * fingerprinted before and compared after every single case.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as runBenchCli } from '../../bench/cli.ts';
import { runCli } from '../cli/main.ts';
import { silentLogger } from '../shared/provision-log.ts';
import { startProvisioner, type RunningProvisioner } from '../provisioner/server.ts';
import { kongSignature } from '../sandbox/kong/index.ts';
import { SANDBOX_EVENT_HOOK_SECRET } from '../dev/start-sandbox.ts';
import { DEFAULT_BACKUP_ROOT } from '../admin/sync/backups.ts';
import { THEME_DIR } from '../shared/bundle-layout.ts';
import { FAST_PROVISIONER, startReliabilitySandbox, type ReliabilitySandbox } from '../testkit/reliability-sandbox.ts';
import { fingerprint, type WriteFingerprint } from '../testkit/write-guard.ts';

const EXISTING = 'existing-developer@example.com';
const INJECTIONS = [
  "x@example.com' OR '1'='1",
  '<script>alert(1)</script>@example.com',
  '../../admin/files@example.com',
  'x@example.com\r\nX-Injected: 1',
  '${process.env.STRIPE_SECRET_KEY}@example.com',
  '{"$ne": null}',
  `${EXISTING}\u0000`,
  'x@example.com; rm -rf /',
];

let rs: ReliabilitySandbox;
let provisioner: RunningProvisioner;
let scratch: string;
let before: WriteFingerprint;
const localDirs = [resolve(THEME_DIR), resolve(DEFAULT_BACKUP_ROOT)];
const savedEnv = { ...process.env };

beforeAll(async () => {
  rs = await startReliabilitySandbox();
  rs.kong.state.addDeveloper('default', { email: EXISTING, meta: { full_name: 'Existing Developer' } });
  provisioner = await startProvisioner(rs.settings, { ...FAST_PROVISIONER, port: 0, logger: silentLogger });
  scratch = await mkdtemp(join(tmpdir(), 'kpm-bad-input-'));
  // Commands read the environment: point every one of them at this sandbox.
  Object.assign(process.env, rs.env, { PROVISIONER_URL: provisioner.url, NO_COLOR: '1' });
  before = now();
});
afterAll(async () => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await provisioner?.close();
  await rs?.close();
  await rm(scratch, { recursive: true, force: true });
});

function now(): WriteFingerprint {
  return fingerprint(rs, localDirs);
}

function expectNoWrite(what: string): void {
  expect(now(), `${what} wrote something`).toEqual(before);
}

// ---- provisioner endpoints -------------------------------------------------------------------

interface HttpCase {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Expected status and error code. */
  status: number;
  code: string | RegExp;
}

const json = { 'content-type': 'application/json' };
const signed = (body: string) => ({ ...json, 'x-kong-signature': kongSignature(body, SANDBOX_EVENT_HOOK_SECRET) });
const event = (entity: unknown, operation = 'create') => JSON.stringify({ source: 'crud', event: 'developers', operation, entity, old_entity: null });

const PROVISION_CASES: HttpCase[] = [
  { name: 'no content type', path: '/provision', body: `{"email":"${EXISTING}"}`, status: 415, code: 'unsupported_media_type' },
  { name: 'form-encoded body', path: '/provision', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${EXISTING}`, status: 415, code: 'unsupported_media_type' },
  { name: 'malformed JSON', path: '/provision', headers: json, body: '{"email": ', status: 400, code: 'invalid_json' },
  { name: 'empty body', path: '/provision', headers: json, body: '', status: 400, code: 'invalid_json' },
  { name: 'JSON null', path: '/provision', headers: json, body: 'null', status: 400, code: 'invalid_email' },
  { name: 'JSON array', path: '/provision', headers: json, body: `["${EXISTING}"]`, status: 400, code: 'invalid_email' },
  { name: 'no email', path: '/provision', headers: json, body: '{}', status: 400, code: 'invalid_email' },
  { name: 'email is a number', path: '/provision', headers: json, body: '{"email": 12345}', status: 400, code: 'invalid_email' },
  { name: 'email is an array', path: '/provision', headers: json, body: `{"email": ["${EXISTING}"]}`, status: 400, code: 'invalid_email' },
  { name: 'email is an operator object', path: '/provision', headers: json, body: '{"email": {"$ne": ""}}', status: 400, code: 'invalid_email' },
  { name: 'email is true', path: '/provision', headers: json, body: '{"email": true}', status: 400, code: 'invalid_email' },
  { name: 'email too long', path: '/provision', headers: json, body: JSON.stringify({ email: `${'a'.repeat(300)}@example.com` }), status: 400, code: 'invalid_email' },
  { name: 'oversize body', path: '/provision', headers: json, body: JSON.stringify({ email: EXISTING, padding: 'x'.repeat(20_000) }), status: 413, code: 'payload_too_large' },
  { name: 'huge body', path: '/provision', headers: json, body: JSON.stringify({ email: 'x'.repeat(2_000_000) }), status: 413, code: 'payload_too_large' },
  { name: 'prototype pollution', path: '/provision', headers: json, body: '{"__proto__": {"email": "x@example.com"}, "constructor": {"prototype": {"email": 1}}}', status: 400, code: 'invalid_email' },
  {
    name: 'a chosen price and customer, with a customer id as the proof',
    path: '/provision',
    headers: json,
    body: JSON.stringify({ email: EXISTING, developer_id: 'cus_123', price: 'price_123', customer: 'cus_123', name: 'Mallory' }),
    status: 400,
    code: 'invalid_proof',
  },
  { name: 'proof is a path', path: '/provision', headers: json, body: JSON.stringify({ email: EXISTING, developer_id: '../../workspaces/default' }), status: 400, code: 'invalid_proof' },
  { name: 'proof is an object', path: '/provision', headers: json, body: JSON.stringify({ email: EXISTING, developer_id: { $ne: '' } }), status: 400, code: 'invalid_proof' },
  { name: 'foreign origin', path: '/provision', headers: { ...json, origin: 'https://evil.example.com' }, body: JSON.stringify({ email: EXISTING }), status: 403, code: 'origin_not_allowed' },
  ...INJECTIONS.map((email): HttpCase => ({ name: `injection ${JSON.stringify(email).slice(0, 40)}`, path: '/provision', headers: json, body: JSON.stringify({ email }), status: 400, code: 'invalid_email' })),
  { name: 'GET /provision', method: 'GET', path: '/provision', status: 404, code: 'not_found' },
  { name: 'PUT /provision', method: 'PUT', path: '/provision', headers: json, body: JSON.stringify({ email: EXISTING }), status: 404, code: 'not_found' },
  { name: 'path traversal', method: 'GET', path: '/../../etc/passwd', status: 404, code: 'not_found' },
  { name: 'unknown route', path: '/admin/provision-all', headers: json, body: '{}', status: 404, code: 'not_found' },
];

const EVENT_CASES: HttpCase[] = [
  { name: 'unsigned event', path: '/kong/events', headers: json, body: event({ id: 'x', email: EXISTING, status: 0 }), status: 401, code: 'invalid_signature' },
  {
    name: 'wrong signature',
    path: '/kong/events',
    headers: { ...json, 'x-kong-signature': kongSignature('something else', SANDBOX_EVENT_HOOK_SECRET) },
    body: event({ id: 'x', email: EXISTING, status: 0 }),
    status: 401,
    code: 'invalid_signature',
  },
  {
    name: 'signed with another secret',
    path: '/kong/events',
    headers: { ...json, 'x-kong-signature': kongSignature(event({ id: 'x' }), 'guess') },
    body: event({ id: 'x' }),
    status: 401,
    code: 'invalid_signature',
  },
  { name: 'signed malformed JSON', path: '/kong/events', headers: signed('{"source": '), body: '{"source": ', status: 400, code: 'invalid_json' },
  { name: 'signed JSON of the wrong shape', path: '/kong/events', headers: signed('[1,2,3]'), body: '[1,2,3]', status: 400, code: 'invalid_event' },
  { name: 'signed event with wrong types', path: '/kong/events', headers: signed('{"source": 1, "event": [], "operation": {}}'), body: '{"source": 1, "event": [], "operation": {}}', status: 400, code: 'invalid_event' },
  { name: 'oversize event', path: '/kong/events', headers: json, body: event({ id: 'x', padding: 'x'.repeat(400_000) }), status: 413, code: 'payload_too_large' },
];

/** Well-formed, signed events about developers that do not exist (or carry injection ids): acknowledged, ignored. */
const IGNORED_EVENTS = [
  event({ id: '00000000-0000-0000-0000-000000000000', email: 'ghost@example.com', status: 0 }),
  event({ id: '../../default/files/portal.conf.yaml', email: EXISTING, status: 0 }),
  event({ id: `${EXISTING}?x=1#`, email: EXISTING, status: 0 }),
  event({ id: 'x', email: EXISTING, status: 0 }, 'delete'),
];

/**
 * One HTTP request with node:http, resolving on the answer even when the server refuses the rest
 * of an oversize body and closes the connection (fetch would report only the broken upload).
 */
function rawRequest(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = httpRequest(url, { agent: false, method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      answered = true;
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
      response.on('error', reject);
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.end(body);
  });
}

describe('provisioner endpoints answer bad input with a clear error and write nothing', () => {
  it.each([...PROVISION_CASES, ...EVENT_CASES].map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const response = await rawRequest(`${provisioner.url}${c.path}`, c.method ?? 'POST', c.headers ?? {}, c.body);
    const body = response.body as { error?: { code?: string; message?: string } } | undefined;
    expect(response.status, JSON.stringify(body)).toBe(c.status);
    expect(body?.error?.code).toMatch(c.code);
    expect(body?.error?.message?.length ?? 0).toBeGreaterThan(10);
    expect(JSON.stringify(body)).not.toMatch(/\bat .+\.ts:\d+|sk_test_|sandbox-event-hook-secret/);
    expectNoWrite(c.name);
  });

  it.each(IGNORED_EVENTS.map((body, i) => [i, body] as const))('signed event %i about a developer that cannot be provisioned is ignored', async (_i, body) => {
    const response = await fetch(`${provisioner.url}/kong/events`, { method: 'POST', headers: signed(body), body });
    expect(response.status).toBe(200);
    // A delete is handled as a removal, which finds no subscription for an unknown id: nothing to do either way.
    expect((await response.json()) as { action: string }).toMatchObject({ action: expect.stringMatching(/^(ignored|removed)$/) });
    expectNoWrite('an ignored event');
  });

  it('read-only endpoints shrug off junk queries and headers', async () => {
    for (const path of ['/plans?plan=<script>&price=price_1', '/healthz?x=%00', '/readyz?check=../../']) {
      const response = await fetch(`${provisioner.url}${path}`, { headers: { 'x-forwarded-for': "1.2.3.4' OR 1=1", cookie: 'a'.repeat(4000) } });
      expect(response.status, path).toBeLessThan(500);
      await response.arrayBuffer();
    }
    expectNoWrite('read-only endpoints');
  });
});

// ---- commands --------------------------------------------------------------------------------

interface CommandRun {
  code: number;
  output: string;
}

/** Runs a command in process, capturing everything it prints. */
async function runCommand(argv: string[]): Promise<CommandRun> {
  const chunks: string[] = [];
  const capture = (...args: unknown[]) => {
    chunks.push(args.map(String).join(' '));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    vi.spyOn(console, 'log').mockImplementation(capture),
    vi.spyOn(console, 'error').mockImplementation(capture),
    vi.spyOn(console, 'warn').mockImplementation(capture),
  ];
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`"${argv.join(' ').slice(0, 80)}" did not finish: it accepted the input`)), 15_000);
    });
    // bench is not in the shipped bin: `npm run bench` runs bench/cli.ts.
    const code = await Promise.race([argv[0] === 'bench' ? runBenchCli(argv.slice(1)) : runCli(argv), timeout]).finally(() => clearTimeout(timer));
    return { code, output: chunks.join('') };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
}

const longUrl = `https://${'a'.repeat(100_000)}.example.com`;
const PROVISIONER_URL = 'https://billing.example.com';

/** [argv, what the message must name]. Files are created in beforeAll of the describe below. */
function commandCases(files: Record<'malformed' | 'wrongTypes' | 'injection' | 'oversize', string>): Array<[string[], RegExp]> {
  return [
    [['no-such-command'], /unknown command/i],
    [['--bogus'], /unknown command/i],
    [['start', '--bogus'], /unknown option '--bogus'/],
    [['start', '--services', 'kong,evil'], /--services.*evil/],
    [['start', '--services', 'kong;rm -rf /'], /--services/],
    [['start', '--kong-admin-port', '99999'], /--kong-admin-port/],
    [['start', '--stripe-port', 'abc'], /--stripe-port/],
    [['start', '--stripe', 'live'], /--stripe/],
    [['start', '--stripe-latency-ms', '-5'], /--stripe-latency-ms/],
    [['build', '--bogus'], /unknown option '--bogus'/],
    [['build', '--out'], /--out/],
    [['provisioner', '--port', '99999'], /--port/],
    [['provisioner', '--port', 'abc'], /--port/],
    [['provisioner', '--port', '-1'], /--port|unknown option/],
    [['provisioner', '--bogus'], /unknown option '--bogus'/],
    [['sync'], /provisioner-url/],
    [['sync', '--provisioner-url', 'javascript:alert(1)'], /provisioner-url/],
    [['sync', '--provisioner-url', 'ftp://billing.example.com'], /provisioner-url/],
    [['sync', '--provisioner-url', 'https://user:secret@billing.example.com'], /credentials/],
    [['sync', '--provisioner-url', 'not a url'], /provisioner-url/],
    [['sync', '--provisioner-url', longUrl], /provisioner-url.*at most 2048/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--workspace', '../admin'], /workspace/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--workspace', "x'; DROP TABLE files;--"], /workspace/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--theme', '../../etc'], /theme/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--theme', '<script>'], /theme/],
    // Dot segments pass Kong's character rule but would address another Admin API path or folder.
    [['sync', '--provisioner-url', PROVISIONER_URL, '--workspace', '..'], /--workspace: "\.\." is not a valid workspace name/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--workspace', '.'], /--workspace: "\." is not a valid workspace name/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--workspace', 'consumers'], /reserves the names of its core entities/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--theme', '..'], /--theme: "\.\." is not a theme folder name/],
    [['reconcile', '--workspace', '..'], /--workspace: "\.\." is not a valid workspace name/],
    [['doctor', '--workspace', '..'], /--workspace: "\.\." is not a valid workspace name/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--header', 'no-colon-here'], /--header/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--header', 'X-A: b\r\nInjected: 1'], /--header/],
    [['sync', '--provisioner-url', PROVISIONER_URL, '--bogus'], /unknown option '--bogus'/],
    [['stripe-setup', '--plans', join(scratch, 'missing.json')], /missing\.json/],
    [['stripe-setup', '--plans', files.malformed], /malformed\.json/],
    [['stripe-setup', '--plans', files.wrongTypes], /wrong-types\.json/],
    [['stripe-setup', '--plans', files.injection], /injection\.json/],
    [['stripe-setup', '--plans', files.oversize], /oversize\.json/],
    [['stripe-setup', '--bogus'], /unknown option '--bogus'/],
    [['reconcile', '--concurrency', 'abc'], /--concurrency/],
    [['reconcile', '--concurrency', '0'], /--concurrency/],
    [['reconcile', '--concurrency', '99999999999999999999'], /--concurrency/],
    [['reconcile', '--workspace', '<script>alert(1)</script>'], /workspace/],
    [['reconcile', '--moesif', 'sometimes'], /--moesif|"always" or "repaired"/],
    [['reconcile', '--progress-every', '-1'], /--progress-every|unknown option/],
    [['doctor', '--bogus'], /unknown option '--bogus'/],
    [['doctor', '--workspace', '../../x'], /workspace/],
    [['doctor', '--plans', files.malformed], /malformed\.json/],
    [['bench', '--only', 'nope'], /--only|unknown scenario "nope"/],
    [['bench', '--only', 'sync;rm -rf /'], /unknown scenario/],
    [['bench', '--only', ''], /--only|list one or more/],
    [['bench', '--out', 'results.txt'], /--out|\.json/],
    [['bench', '--bogus'], /unknown option '--bogus'/],
  ];
}

describe('commands answer bad input with a clear error and write nothing', () => {
  const files = { malformed: '', wrongTypes: '', injection: '', oversize: '' };
  beforeAll(async () => {
    files.malformed = join(scratch, 'malformed.json');
    await writeFile(files.malformed, '{"plans": [ { "id": "starter", ');
    files.wrongTypes = join(scratch, 'wrong-types.json');
    await writeFile(files.wrongTypes, JSON.stringify({ product: 'not an object', meters: 7, plans: [{ id: 42, price: 'free' }] }));
    files.injection = join(scratch, 'injection.json');
    await writeFile(
      files.injection,
      JSON.stringify({
        product: { name: '<script>alert(1)</script>' },
        meters: [{ event_name: "api_calls'; DROP TABLE meters;--", display_name: 'x', aggregation: 'sum' }],
        plans: [{ id: '../../etc/passwd', name: 'x', price: { lookup_key: '${STRIPE_SECRET_KEY}', currency: 'usd', meter: 'nope', pricing: { model: 'eval' } } }],
      }),
    );
    files.oversize = join(scratch, 'oversize.json');
    await writeFile(files.oversize, JSON.stringify({ product: { name: 'x' }, meters: [], plans: Array.from({ length: 20_000 }, (_, i) => ({ id: `p${i}`, name: 'x'.repeat(200) })) }));
  });

  it('every case exits non-zero, names the problem, prints no stack trace and writes nothing', async () => {
    const problems: string[] = [];
    for (const [argv, names] of commandCases(files)) {
      const label = argv.join(' ').slice(0, 100);
      const { code, output } = await runCommand(argv);
      if (code === 0) problems.push(`${label}: exit 0`);
      if (!names.test(output)) problems.push(`${label}: output does not match ${names}: ${output.slice(0, 300)}`);
      if (/\n\s+at .+:\d+:\d+\)?/.test(output)) problems.push(`${label}: printed a stack trace`);
      if (output.includes('sk_test_')) problems.push(`${label}: printed the Stripe key`);
      const after = now();
      if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`${label}: wrote something`);
    }
    expect(problems).toEqual([]);
  }, 60_000);
});

