// Chooses the code the bin runs: the compiled CLI in dist/ (`npm run build`) while every source
// it was built from is unchanged, else the TypeScript sources through tsx. Plain JavaScript on
// purpose: it runs before anything can load TypeScript. src/build/build-node.ts writes the
// build-info.json read here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CODE_MODES = ['auto', 'compiled', 'sources'];

/** { entry: path of the compiled main } when dist/ matches the sources, else { stale: why not }. */
export function inspectBuild(root, distDir = join(root, 'dist')) {
  let info;
  try {
    info = JSON.parse(readFileSync(join(distDir, 'build-info.json'), 'utf8'));
  } catch {
    return { stale: 'dist/ is not built (run `npm run build`)' };
  }
  if (typeof info?.entry !== 'string' || !Array.isArray(info.inputs) || info.inputs.length === 0) return { stale: 'dist/build-info.json is not a build record (run `npm run build`)' };
  for (const input of info.inputs) {
    let bytes;
    try {
      bytes = readFileSync(join(root, input.path));
    } catch {
      return { stale: `${input.path} is gone since the last \`npm run build\`` };
    }
    if (createHash('sha256').update(bytes).digest('hex') !== input.sha256) return { stale: `${input.path} changed since the last \`npm run build\`` };
  }
  return { entry: join(distDir, info.entry) };
}

/**
 * mode (PORTAL_MONETIZATION_CODE): auto (default) falls back to the sources; compiled refuses to,
 * for a production start that must not silently run something else; sources skips dist/.
 * Returns { compiled: path } | { sources: true } | { error: message }.
 */
export function chooseCode(root, mode = 'auto') {
  if (!CODE_MODES.includes(mode)) return { error: `PORTAL_MONETIZATION_CODE must be one of ${CODE_MODES.join(', ')}` };
  if (mode === 'sources') return { sources: true };
  const build = inspectBuild(root);
  if (build.entry) return { compiled: build.entry };
  if (mode === 'compiled') return { error: `PORTAL_MONETIZATION_CODE=compiled but ${build.stale}` };
  return { sources: true };
}
