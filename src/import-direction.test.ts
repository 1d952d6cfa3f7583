/**
 * Dependencies point one way: cli -> admin -> domain -> clients -> shared. Read from the sources
 * (type-only and dynamic imports included: they tie files together in the reader's head too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT as ROOT } from './shared/package-root.ts';

/** A file under `from` may not import anything under `forbidden`. */
const RULES: Array<{ from: string; forbidden: string[]; why: string }> = [
  { from: 'src/admin/', forbidden: ['src/cli/', 'src/build/'], why: 'admin commands parse their own options (src/shared/command-line.ts); the CLI only dispatches' },
  { from: 'src/provisioner/', forbidden: ['src/cli/'], why: 'the CLI starts the provisioner, never the reverse' },
  { from: 'src/kong/', forbidden: ['src/cli/', 'src/build/', 'src/admin/', 'src/provisioner/'], why: 'src/kong is the Admin API client: the sync and the provisioner use it' },
  { from: 'src/shared/', forbidden: ['src/cli/', 'src/build/', 'src/admin/', 'src/provisioner/', 'src/kong/', 'src/sandbox/'], why: 'shared is the bottom layer' },
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => relative(ROOT, resolve(dirname(file), match[1] as string)).split('\\').join('/'));
}

describe('import direction', () => {
  it('no file imports a layer above its own', () => {
    const against: string[] = [];
    for (const file of sources(join(ROOT, 'src'))) {
      const path = relative(ROOT, file).split('\\').join('/');
      for (const rule of RULES.filter((r) => path.startsWith(r.from))) {
        for (const target of relativeImports(file)) {
          if (rule.forbidden.some((prefix) => target.startsWith(prefix))) against.push(`${path} imports ${target} (${rule.why})`);
        }
      }
    }
    expect(against).toEqual([]);
  });
});
