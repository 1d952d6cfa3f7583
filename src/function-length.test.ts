/**
 * No function past ~80 lines, product and emulators alike: a longer one is a module in a closure
 * that wants its pieces named. Read with the TypeScript parser (tests are left out: a describe
 * block is a list, not a function).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT as ROOT } from './shared/package-root.ts';

const MAX_LINES = 80;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** "file:line name (n lines)" for every function-like body longer than `max` lines. */
function longFunctions(fileName: string, text: string, max: number): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = file.getLineAndCharacterOfPosition(node.getStart()).line;
      const lines = file.getLineAndCharacterOfPosition(node.end).line - first + 1;
      const name = node.name?.getText(file) ?? (ts.isVariableDeclaration(node.parent) || ts.isPropertyAssignment(node.parent) ? node.parent.name.getText(file) : '(anonymous)');
      if (lines > max) found.push(`${fileName}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('function length', () => {
  it('finds a long function', () => {
    const body = Array.from({ length: 5 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    expect(longFunctions('x.ts', `export function long() {\n${body}\n}\nconst short = () => 1;\n`, 4)).toEqual(['x.ts:1 long (7 lines)']);
  });

  it(`no function under src/ is longer than ${MAX_LINES} lines`, () => {
    const found = sources(join(ROOT, 'src')).flatMap((file) => longFunctions(relative(ROOT, file).split('\\').join('/'), readFileSync(file, 'utf8'), MAX_LINES));
    expect(found).toEqual([]);
  });
});
