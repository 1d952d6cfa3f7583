/**
 * Dependencies point one way: cli -> admin -> domain -> clients -> shared. Read from the sources
 * (type-only and dynamic imports included: they tie files together in the reader's head too).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT as ROOT } from './shared/package-root.ts';

/** A file under `from` may not import anything under `forbidden` (`productOnly`: a test beside its subject may drive it through an outer room). */
const RULES: Array<{ from: string; forbidden: string[]; why: string; productOnly?: boolean }> = [
  { from: 'src/admin/', forbidden: ['src/cli/', 'src/build/'], why: 'admin commands parse their own options (src/shared/command-line.ts); the CLI only dispatches' },
  { from: 'src/provisioner/', forbidden: ['src/cli/'], why: 'the CLI starts the provisioner, never the reverse' },
  { from: 'src/provisioner/core/', forbidden: ['src/provisioner/http/', 'src/provisioner/hosted-signup/', 'src/provisioner/settings/', 'src/provisioner/usage/', 'src/provisioner/gateways/', 'src/provisioner/wiring/', 'src/provisioner/server.ts', 'src/provisioner/compose.ts'], why: 'core is the domain: it uses the clients (stripe/, moesif/) and shared, and the routes and the composition root use it', productOnly: true },
  { from: 'src/provisioner/stripe/', forbidden: ['src/provisioner/core/', 'src/provisioner/http/', 'src/provisioner/hosted-signup/', 'src/provisioner/settings/', 'src/provisioner/usage/', 'src/provisioner/wiring/', 'src/provisioner/server.ts', 'src/provisioner/compose.ts'], why: 'stripe/ is a client: the domain uses it, never the reverse' },
  { from: 'src/provisioner/moesif/', forbidden: ['src/provisioner/core/', 'src/provisioner/http/', 'src/provisioner/hosted-signup/', 'src/provisioner/settings/', 'src/provisioner/usage/', 'src/provisioner/wiring/', 'src/provisioner/server.ts', 'src/provisioner/compose.ts'], why: 'moesif/ is a client: the domain uses it, never the reverse' },
  { from: 'src/kong/', forbidden: ['src/cli/', 'src/build/', 'src/admin/', 'src/provisioner/'], why: 'src/kong is the Admin API client: the sync and the provisioner use it' },
  { from: 'src/sandbox/', forbidden: ['src/provisioner/', 'src/admin/', 'src/cli/', 'src/dev/'], why: 'the emulators stand alone: src/dev/ starts the product against them (what npm start runs), never the reverse' },
  { from: 'src/sandbox/', forbidden: ['src/kong/', 'src/browser/', 'src/build/'], why: "the emulators speak the services' own shapes and never import the client's types (their tests may drive them through the client)", productOnly: true },
  ...['src/admin/', 'src/provisioner/', 'src/kong/', 'src/browser/', 'src/build/'].map((from) => ({ from, forbidden: ['src/sandbox/'], why: 'the product never loads the emulators: src/dev/ starts it against them, and tests drive it through them (harnesses in src/testkit/)', productOnly: true })),
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

/** Packages a file loads at run time through its static imports, followed through the repo's own files (type-only imports are erased, dynamic ones load on demand). */
function staticPackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\bfrom\s*)?['"]([^'"]+)['"]/gm)) {
      const [, typeOnly, specifier] = match as unknown as [string, string | undefined, string];
      if (typeOnly) continue;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string));
    }
  };
  visit(join(ROOT, entry));
  return packages;
}

describe('import direction', () => {
  it('reconcile and usage load the provisioner core without the web server', () => {
    // The walk does see the web server where it is loaded (nodemailer loads on the first email, everywhere).
    expect([...staticPackages('src/provisioner/server.ts')]).toEqual(expect.arrayContaining(['hono', '@hono/node-server']));
    for (const entry of ['src/admin/reconcile/reconcile-command.ts', 'src/admin/usage/usage-command.ts']) {
      const packages = staticPackages(entry);
      expect(packages.size, `${entry} loads some package`).toBeGreaterThan(0);
      expect([...packages].filter((name) => ['hono', 'hono-rate-limiter', '@hono/node-server', 'nodemailer'].includes(name)), entry).toEqual([]);
    }
  });

  it('only tests import the test harnesses in src/testkit', () => {
    const against: string[] = [];
    for (const file of sources(join(ROOT, 'src'))) {
      const path = relative(ROOT, file).split('\\').join('/');
      if (path.startsWith('src/testkit/') || /\.test\.ts$/.test(path)) continue;
      for (const target of relativeImports(file)) if (target.startsWith('src/testkit/')) against.push(`${path} imports ${target}`);
    }
    expect(against).toEqual([]);
  });

  it('product code never imports vitest (test harnesses live in src/testkit)', () => {
    const against = sources(join(ROOT, 'src'))
      .map((file) => relative(ROOT, file).split('\\').join('/'))
      .filter((path) => !path.startsWith('src/testkit/') && !/\.test\.ts$/.test(path))
      .filter((path) => /^\s*import\b[^'"]*['"]vitest(?:\/[^'"]*)?['"]/m.test(readFileSync(join(ROOT, path), 'utf8')));
    expect(against).toEqual([]);
  });

  it('no file imports a layer above its own', () => {
    const against: string[] = [];
    for (const file of sources(join(ROOT, 'src'))) {
      const path = relative(ROOT, file).split('\\').join('/');
      for (const rule of RULES.filter((r) => path.startsWith(r.from) && !(r.productOnly && path.endsWith('.test.ts')))) {
        for (const target of relativeImports(file)) {
          if (rule.forbidden.some((prefix) => target.startsWith(prefix))) against.push(`${path} imports ${target} (${rule.why})`);
        }
      }
    }
    expect(against).toEqual([]);
  });
});

/** Groups of files that import each other, directly or round a longer path (Tarjan's strongly connected components). */
function importCircles(files: string[], importsOf: (file: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const known = new Set(files);
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) as number);
    stack.push(file);
    onStack.add(file);
    for (const next of importsOf(file).filter((target) => known.has(target))) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = member === file ? undefined : stack.pop()) {
      onStack.delete(member);
      group.push(member);
    }
    if (group.length > 1 || importsOf(file).includes(file)) circles.push(group.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return circles;
}

describe('no import circle', () => {
  it('finds a circle when there is one', () => {
    const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] };
    expect(importCircles(Object.keys(graph), (file) => graph[file] ?? [])).toEqual([['a', 'b', 'c']]);
  });

  it('no file under src/ reaches itself through its imports (type-only and dynamic ones included)', () => {
    const files = sources(join(ROOT, 'src')).map((file) => relative(ROOT, file).split('\\').join('/'));
    expect(importCircles(files, (file) => relativeImports(join(ROOT, file)))).toEqual([]);
  });

  it("the provisioner's rooms (core/, stripe/, http/, …) form no circle either: each room's product files only", () => {
    const roomOf = (file: string) => /^src\/provisioner\/([^/]+)\//.exec(file)?.[1];
    const files = sources(join(ROOT, 'src/provisioner'))
      .map((file) => relative(ROOT, file).split('\\').join('/'))
      .filter((file) => !file.endsWith('.test.ts') && roomOf(file));
    const rooms = new Map<string, Set<string>>();
    for (const file of files) {
      const room = roomOf(file) as string;
      const targets = rooms.get(room) ?? new Set<string>();
      for (const target of relativeImports(join(ROOT, file))) {
        const other = roomOf(target);
        if (other && other !== room) targets.add(other);
      }
      rooms.set(room, targets);
    }
    expect(importCircles([...rooms.keys()], (room) => [...(rooms.get(room) ?? [])])).toEqual([]);
  });
});
