/**
 * Every file the shipped code reads from the package (theme/, the stand-in theme, the plans
 * example, the browser entry) is located from here: the package root, found by walking up from
 * this module to the package.json that names this package. The answer is the same whether this
 * module runs from src/shared/ (sources through tsx) or from a chunk in dist/cli/ (the compiled
 * CLI), which is why no other shipped module resolves a path against its own location
 * (build-node refuses to compile one that does).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MonetizationError } from './errors.ts';

export const PACKAGE_NAME = 'kong-portal-monetization';

function packageNameAt(dir: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

/** The nearest folder at or above `from` whose package.json is named `name`. */
export function findPackageRoot(from: string, name: string = PACKAGE_NAME): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (packageNameAt(dir) === name) return dir;
    if (dirname(dir) === dir)
      throw new MonetizationError('package_root_missing', `no package.json named "${name}" in ${from} or any folder above it`, {
        hint: 'run the CLI from the package as installed (scripts/portal-monetization.mjs or npm scripts); do not copy dist/ out of it',
      });
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** An absolute path inside the package, from its root: packagePath('theme/'). */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}

/** Resolves a dependency's file as the package itself would (its node_modules). */
export const packageRequire = createRequire(join(PACKAGE_ROOT, 'package.json'));
