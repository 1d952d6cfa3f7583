import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { findPackageRoot, PACKAGE_NAME, PACKAGE_ROOT, packagePath } from './package-root.ts';

describe('package root', () => {
  it('is the folder of our package.json, whatever the cwd', () => {
    expect(PACKAGE_NAME).toBe(pkg.name);
    expect(packagePath('package.json')).toBe(join(PACKAGE_ROOT, 'package.json'));
    expect(packagePath('src/shared/package-root.ts')).toBe(join(PACKAGE_ROOT, 'src/shared/package-root.ts'));
  });

  it('walks up past other packages (a dependency, a nested package.json) to the one with our name', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pm-package-root-'));
    try {
      await writeFile(join(root, 'package.json'), JSON.stringify({ name: PACKAGE_NAME }));
      await mkdir(join(root, 'dist/cli'), { recursive: true });
      await writeFile(join(root, 'dist/package.json'), JSON.stringify({ name: 'something-else' }));
      await writeFile(join(root, 'dist/cli/package.json'), '{ not json');
      expect(findPackageRoot(join(root, 'dist/cli'))).toBe(root);
      expect(findPackageRoot(root)).toBe(root);
      expect(() => findPackageRoot(join(root, 'dist/cli'), 'not-our-package')).toThrow(/no package.json named "not-our-package" in .*dist\/cli or any folder above it/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
