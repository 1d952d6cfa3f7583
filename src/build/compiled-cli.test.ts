import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseCode, inspectBuild } from '../../scripts/compiled-cli.mjs';

// The bin's choice between dist/ and the sources, on a made-up project folder.
let root: string;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function project(files: Record<string, string>, recorded: Record<string, string> = files): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const info = { entry: 'cli/main.js', inputs: Object.entries(recorded).map(([path, text]) => ({ path, sha256: sha256(text) })) };
  await mkdir(join(root, 'dist/cli'), { recursive: true });
  await writeFile(join(root, 'dist/build-info.json'), JSON.stringify(info));
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pm-compiled-cli-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('inspectBuild', () => {
  it('gives the compiled entry while every recorded source matches', async () => {
    await project({ 'src/a.ts': 'export const a = 1;\n', 'package.json': '{}' });
    expect(inspectBuild(root)).toEqual({ entry: join(root, 'dist/cli/main.js') });
  });

  it('names the source that changed since the build', async () => {
    await project({ 'src/a.ts': 'export const a = 2;\n' }, { 'src/a.ts': 'export const a = 1;\n' });
    expect(inspectBuild(root)).toEqual({ stale: 'src/a.ts changed since the last `npm run build`' });
  });

  it('names a source that is gone', async () => {
    await project({}, { 'src/gone.ts': 'x' });
    expect(inspectBuild(root).stale).toBe('src/gone.ts is gone since the last `npm run build`');
  });

  it('says dist/ is not built when there is no build record, or a broken one', async () => {
    expect(inspectBuild(root).stale).toBe('dist/ is not built (run `npm run build`)');
    await mkdir(join(root, 'dist'));
    await writeFile(join(root, 'dist/build-info.json'), '{"entry":"cli/main.js","inputs":[]}');
    expect(inspectBuild(root).stale).toMatch(/not a build record/);
  });
});

describe('chooseCode (PORTAL_MONETIZATION_CODE)', () => {
  it('auto: compiled when fresh, sources when stale', async () => {
    await project({ 'src/a.ts': 'a' });
    expect(chooseCode(root, 'auto')).toEqual({ compiled: join(root, 'dist/cli/main.js') });
    await writeFile(join(root, 'src/a.ts'), 'b');
    expect(chooseCode(root, 'auto')).toEqual({ sources: true });
  });

  it('compiled: refuses to fall back, saying why', async () => {
    expect(chooseCode(root, 'compiled')).toEqual({ error: 'PORTAL_MONETIZATION_CODE=compiled but dist/ is not built (run `npm run build`)' });
  });

  it('sources: never looks at dist/', async () => {
    await project({ 'src/a.ts': 'a' });
    expect(chooseCode(root, 'sources')).toEqual({ sources: true });
  });

  it('rejects an unknown mode', () => {
    expect(chooseCode(root, 'fast')).toEqual({ error: 'PORTAL_MONETIZATION_CODE must be one of auto, compiled, sources' });
  });
});
