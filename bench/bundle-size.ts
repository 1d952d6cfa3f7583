/**
 * Benchmark 3: monetization.js as the portal downloads it, minified and gzipped (level 9 and the
 * level-6 default most servers use), built in memory by the real build, beside the budget.
 */
import { gzipSync } from 'node:zlib';
import { buildBundle, SCRIPT_GZIP_BUDGET_BYTES } from '../src/build/build-bundle.ts';
import { BUILT } from '../src/shared/bundle-layout.ts';
import type { BenchScenario } from './bench-types.ts';

export const bundleSizeScenario: BenchScenario = {
  name: 'bundle',
  summary: 'monetization.js bytes, minified and gzipped',
  async run() {
    const result = await buildBundle();
    const script = result.files.find((file) => file.path === BUILT.script);
    if (!script) throw new Error(`the build produced no ${BUILT.script}`);
    const blocks = result.files.filter((file) => file.path === BUILT.registerHookBlock || file.path === BUILT.scriptTagsBlock);
    return [
      {
        id: 'bundle-size',
        title: 'Bundle size (monetization.js)',
        metrics: {
          minified_bytes: result.script.bytes,
          gzip9_bytes: result.script.gzipBytes,
          gzip6_bytes: gzipSync(script.contents, { level: 6 }).byteLength,
          budget_gzip_bytes: SCRIPT_GZIP_BUDGET_BYTES,
          files_built: result.files.length,
        },
        parameters: { minifier: 'esbuild (npm run build)', gzip: 'node:zlib' },
        goals: [{ description: `gzipped <= ${SCRIPT_GZIP_BUDGET_BYTES} bytes (build budget)`, met: result.script.gzipBytes <= SCRIPT_GZIP_BUDGET_BYTES }],
        notes: [`splice blocks (added to Kong's own files): ${blocks.map((b) => `${b.path} ${Buffer.byteLength(b.contents)} B`).join(', ')}`],
      },
    ];
  },
};
