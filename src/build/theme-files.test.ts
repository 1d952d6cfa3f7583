import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run as runBuildCommand } from '../cli/commands/build.ts';
import { BUILT } from '../shared/bundle-layout.ts';
import { compareWithDir, writeBuiltFiles } from './theme-files.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pm-theme-test-'));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const files = [
  { path: 'blocks/a.js', contents: 'a\n' },
  { path: 'themes/base/b.js', contents: 'b…\n' },
];

describe('writeBuiltFiles / compareWithDir', () => {
  it('writes nested files and then finds no difference', async () => {
    await writeBuiltFiles(dir, files);
    expect(await readFile(join(dir, 'themes/base/b.js'), 'utf8')).toBe('b…\n');
    expect(await compareWithDir(dir, files)).toEqual([]);
  });

  it('names missing and changed files', async () => {
    await writeBuiltFiles(dir, files.slice(0, 1));
    await writeFile(join(dir, 'blocks/a.js'), 'a changed\n');
    expect(await compareWithDir(dir, files)).toEqual([
      { path: 'blocks/a.js', problem: 'differs' },
      { path: 'themes/base/b.js', problem: 'missing' },
    ]);
  });
});

describe('portal-monetization build', () => {
  it('--check fails naming each stale file, passes after a build, and --dry-run writes nothing', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line));

    expect(await runBuildCommand(['--out', dir, '--dry-run'])).toBe(0);
    expect(await compareWithDir(dir, [{ path: BUILT.manifest, contents: '' }])).toEqual([{ path: BUILT.manifest, problem: 'missing' }]);

    expect(await runBuildCommand(['--out', dir, '--check'])).toBe(1);
    expect(errors.join('\n')).toContain(BUILT.script);
    expect(errors.join('\n')).toContain(BUILT.manifest);

    expect(await runBuildCommand(['--out', dir])).toBe(0);
    expect(await runBuildCommand(['--out', dir, '--check'])).toBe(0);

    errors.length = 0;
    await writeFile(join(dir, BUILT.scriptTagsBlock), 'edited by hand\n');
    expect(await runBuildCommand(['--out', dir, '--check'])).toBe(1);
    expect(errors.join('\n')).toContain(BUILT.scriptTagsBlock);
    expect(errors.join('\n')).not.toContain(BUILT.script);
  });
});
