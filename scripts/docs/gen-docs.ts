/**
 * `npm run docs`: fills the generated sections of docs/*.md (between `<!-- generated:NAME -->`
 * markers) from the code's own lists and bench/results.json. `--check` writes nothing and exits 1
 * naming each stale file; the test in docs.test.ts does the same inside `npm test`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillSections } from './markdown.ts';
import { renderSection } from './sections.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Every docs/*.md with its current text and the text it should have. */
export function generatedDocs(root = ROOT): Array<{ file: string; current: string; fresh: string }> {
  const dir = join(root, 'docs');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => {
      const file = join('docs', name);
      const current = readFileSync(join(root, file), 'utf8');
      return { file, current, fresh: fillSections(file, current, (section) => renderSection(root, section)) };
    });
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const stale = generatedDocs().filter((doc) => doc.current !== doc.fresh);
  if (check) {
    for (const doc of stale) console.error(`${doc.file} is stale: run npm run docs`);
    return stale.length ? 1 : 0;
  }
  for (const doc of stale) writeFileSync(join(ROOT, doc.file), doc.fresh);
  console.log(stale.length ? `updated ${stale.map((doc) => doc.file).join(', ')}` : 'docs/ already up to date');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
