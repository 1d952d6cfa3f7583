/**
 * What the product's sources name, found by reading them: the error codes they raise or answer
 * with, and the environment variables they read. The docs tests compare these with the lists the
 * docs are generated from, so a new code or setting cannot ship undocumented.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The shipped product's sources: no tests, no emulators (they answer in Stripe's and Kong's words), no test harnesses. */
function productSources(root: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const file = relative(root, path);
      if (entry.isDirectory()) {
        if (!/^src\/(sandbox|reliability|testkit)$/.test(file) && entry.name !== 'fixtures') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push({ file, text: readFileSync(path, 'utf8') });
    }
  };
  walk(join(root, 'src'));
  return out;
}

const CODE = "'([a-z][a-z0-9]*_[a-z0-9_]+)'";
const DIRECT = [
  new RegExp(`new \\w*(?:Error|Refusal)\\(\\s*${CODE}`, 'g'),
  new RegExp(`super\\(\\s*${CODE}`, 'g'),
  new RegExp(`\\b(?:fail|errorJson)\\((?:c, )?${CODE}`, 'g'),
  new RegExp(`\\bcode: ${CODE}`, 'g'),
  new RegExp(`readonly code = ${CODE}`, 'g'),
];
// `a ? 'x_y' : 'z_w'` picks a code only where an error is being built just before.
const TERNARY = [new RegExp(`\\? ${CODE}(?= :)`, 'g'), new RegExp(`\\? '[a-z_]+' : ${CODE}`, 'g')];
const ERROR_CONTEXT = /Error\(|super\(|\bconst code\b/;

/** Every error code literal the product raises or answers with, and the first file naming it. */
export function errorCodesInSources(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const add = (code: string | undefined, file: string) => code && !found.has(code) && found.set(code, file);
  for (const { file, text } of productSources(root)) {
    for (const pattern of DIRECT) for (const match of text.matchAll(pattern)) add(match[1], file);
    for (const pattern of TERNARY)
      for (const match of text.matchAll(pattern)) if (ERROR_CONTEXT.test(text.slice(Math.max(0, (match.index ?? 0) - 300), match.index))) add(match[1], file);
    for (const union of text.matchAll(/type \w*ErrorCode\s*=([^;]+);/g)) for (const member of (union[1] ?? '').matchAll(/'([a-z_]+)'/g)) add(member[1], file);
  }
  return found;
}

const ENV_READ = /\benv(?:\?)?\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|\(env, '([A-Z][A-Z0-9_]+)'|\.env\('([A-Z][A-Z0-9_]+)'\)|\benv: '([A-Z][A-Z0-9_]+)'/g;
const SCHEMA_KEY = /^\s+([A-Z][A-Z0-9]*_[A-Z0-9_]+): /gm;
/** Read by the shell or the OS, not settings of this product. */
const NOT_SETTINGS = new Set(['PATH', 'HOME', 'PLAYWRIGHT_JSON_OUTPUT_NAME']);

/** Environment variables the product reads (zod schemas of *settings*.ts files and env.X reads), with a file that reads each. */
export function environmentVariablesInSources(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const sources = [...productSources(root), ...['scripts/portal-monetization.mjs', 'scripts/test.mjs'].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }))];
  for (const { file, text } of sources) {
    for (const match of text.matchAll(ENV_READ)) {
      const name = match.slice(1).find(Boolean);
      if (name && !NOT_SETTINGS.has(name) && !found.has(name)) found.set(name, file);
    }
    if (/settings\.ts$/.test(file)) for (const match of text.matchAll(SCHEMA_KEY)) if (match[1] && !found.has(match[1])) found.set(match[1], file);
  }
  return found;
}
