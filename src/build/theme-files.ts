/** Writes built files under an output folder, and compares a build with what a folder holds. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BuiltFile } from './build-bundle.ts';

interface FileDifference {
  path: string;
  problem: 'missing' | 'differs';
}

export async function writeBuiltFiles(outDir: string, files: readonly BuiltFile[]): Promise<void> {
  for (const file of files) {
    const target = join(outDir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.contents, 'utf8');
  }
}

/** Byte-for-byte comparison of each built file with its copy under `dir`. */
export async function compareWithDir(dir: string, files: readonly BuiltFile[]): Promise<FileDifference[]> {
  const differences: FileDifference[] = [];
  for (const file of files) {
    let existing: Buffer;
    try {
      existing = await readFile(join(dir, file.path));
    } catch {
      differences.push({ path: file.path, problem: 'missing' });
      continue;
    }
    if (!existing.equals(Buffer.from(file.contents, 'utf8'))) differences.push({ path: file.path, problem: 'differs' });
  }
  return differences;
}
