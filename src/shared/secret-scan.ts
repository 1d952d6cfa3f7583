/**
 * Finds secret-like text in files about to be published (the built theme, or a workspace's files
 * before sync pushes them): Stripe secret and restricted keys, webhook signing secrets, and the
 * literal values of the secrets in this process's environment. Findings name the file and line,
 * never the secret itself.
 */
import { readFileSync } from 'node:fs';
import { MonetizationError } from './errors.ts';

export interface ScannedFile {
  path: string;
  contents: string;
}

interface SecretFinding {
  path: string;
  line: number;
  /** What was found, e.g. "a Stripe secret key (sk_live_…)" or "the value of KONG_ADMIN_TOKEN". */
  what: string;
}

const PATTERNS: { pattern: RegExp; what: string }[] = [
  { pattern: /\b(sk|rk)_(test|live)_[0-9A-Za-z]{8,}/g, what: 'a Stripe secret or restricted key' },
  { pattern: /\bwhsec_[0-9A-Za-z+/=]{8,}/g, what: 'a Stripe webhook signing secret (whsec_…)' },
];

/** Environment variables whose values must never be published. */
const SECRET_ENV_NAMES = ['KONG_ADMIN_TOKEN', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'MOESIF_MANAGEMENT_TOKEN'] as const;
/** Holds a path; the file's contents are the secret. */
const SECRET_FILE_ENV_NAMES = ['KONG_ADMIN_TOKEN_FILE'] as const;
/** Shorter values (e.g. "admin", "true") would match innocent text; real tokens are longer. */
const MIN_SECRET_LENGTH = 8;

export type Environment = Record<string, string | undefined>;

/** The secret values present in `env`, labelled by where they came from. */
export function secretsFromEnvironment(env: Environment, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): { value: string; what: string }[] {
  const secrets: { value: string; what: string }[] = [];
  for (const name of SECRET_ENV_NAMES) {
    const value = env[name]?.trim();
    if (value && value.length >= MIN_SECRET_LENGTH) secrets.push({ value, what: `the value of ${name}` });
  }
  for (const name of SECRET_FILE_ENV_NAMES) {
    const path = env[name]?.trim();
    if (!path) continue;
    let value: string;
    try {
      value = readFile(path).trim();
    } catch {
      continue; // An unreadable token file is the settings module's error to report, not ours.
    }
    if (value.length >= MIN_SECRET_LENGTH) secrets.push({ value, what: `the contents of ${name}` });
  }
  return secrets;
}

function lineOf(contents: string, index: number): number {
  let line = 1;
  for (let i = contents.indexOf('\n'); i !== -1 && i < index; i = contents.indexOf('\n', i + 1)) line++;
  return line;
}

export function findSecrets(files: readonly ScannedFile[], env: Environment = process.env, readFile?: (path: string) => string): SecretFinding[] {
  const secrets = secretsFromEnvironment(env, readFile);
  const findings: SecretFinding[] = [];
  for (const file of files) {
    for (const { pattern, what } of PATTERNS) {
      for (const match of file.contents.matchAll(pattern)) findings.push({ path: file.path, line: lineOf(file.contents, match.index), what });
    }
    for (const { value, what } of secrets) {
      const index = file.contents.indexOf(value);
      if (index !== -1) findings.push({ path: file.path, line: lineOf(file.contents, index), what });
    }
  }
  return findings;
}

/** Throws `secret_in_output` naming every file and line when anything secret-like is found. */
export function assertNoSecrets(files: readonly ScannedFile[], env: Environment = process.env, readFile?: (path: string) => string): void {
  const findings = findSecrets(files, env, readFile);
  if (findings.length === 0) return;
  const list = findings.map((f) => `${f.path}:${f.line} holds ${f.what}`).join('; ');
  throw new MonetizationError('secret_in_output', `refusing to publish secret-like text: ${list}`, {
    hint: 'secrets belong only in the provisioner\'s and the CLIs\' environment; remove the value from the named file or its sources (src/browser/ for the built theme)',
  });
}
