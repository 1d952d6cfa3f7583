/**
 * `portal-monetization build`: builds theme/ (monetization.js, the two splice blocks, the
 * manifest) and the compiled Node code in dist/ (the CLI and provisioner the bin runs), and prints
 * the sizes. `--check` verifies the committed theme/ is up to date and that the Node code compiles
 * without benchmarks, tests or dev-only packages; dist/ is not committed, so it is not compared.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import pc from 'picocolors';
import { THEME_DIR, BUILT } from '../../shared/bundle-layout.ts';
import { buildBundle, SCRIPT_GZIP_BUDGET_BYTES, type BuiltFile } from '../../build/build-bundle.ts';
import { BUILD_INFO, buildNodeCode, DIST_DIR, PRODUCTION_COMMANDS, PROJECT_ROOT } from '../../build/build-node.ts';
import { packagePath } from '../../shared/package-root.ts';
import { compareWithDir, writeBuiltFiles } from '../../build/theme-files.ts';
import { Command, parseArgs } from '../../shared/command-line.ts';

interface BuildFlags {
  out: string;
  check: boolean;
  dryRun: boolean;
}

const EXAMPLES = `
Examples:
  $ npm run build                                     # write theme/ and dist/
  $ npx portal-monetization build --check             # fail if theme/ is stale or dist/ would not ship (npm test runs this)
  $ npx portal-monetization build --out /tmp/theme    # write somewhere else
  $ npx portal-monetization build --dry-run           # build and print sizes, write nothing

The build fails, naming the file, if any output holds a Stripe secret key (sk_/rk_ test|live),
a webhook secret (whsec_) or the value of KONG_ADMIN_TOKEN, KONG_ADMIN_TOKEN_FILE's contents,
STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET from the environment.

dist/ (not committed) holds the compiled CLI and provisioner, written to the package root whatever
folder you run from: the bin runs it while it matches the sources (PORTAL_MONETIZATION_CODE=compiled
insists on it) and falls back to the TypeScript sources through tsx otherwise. Building again, from
the sources or from dist/ itself, gives the same dist/.
The build fails if the shipped code imports bench/, e2e/, a test, a fixture or a package that is in
neither "dependencies" nor "optionalDependencies", if a production command (provisioner, sync,
reconcile, doctor, stripe-setup) loads an optional (sandbox) package or a build tool, or if a module
locates a file relative to itself instead of the package root.`;

function parseFlags(argv: string[]): BuildFlags | number {
  const program = new Command('portal-monetization build')
    .description(
      'Build theme/ (monetization.js, the kong.auth.js register-hook block, the required-scripts.html script-tags block, manifest.json) and dist/ (the compiled CLI and provisioner that production runs).',
    )
    .option('--out <dir>', 'folder to write the portal bundle to (laid out like a portal workspace); default: the package\'s theme/', `${THEME_DIR}/`)
    .option('--check', 'build in memory and fail, naming each file, if it differs from --out', false)
    .option('--dry-run', 'build and print sizes without writing anything', false)
    .addHelpText('after', EXAMPLES);
  const parsed = parseArgs<BuildFlags>(program, argv);
  return parsed.ok ? parsed.options : parsed.exitCode;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (typeof flags === 'number') return flags;
  // The default is the package's own theme/ (what sync pushes), wherever the command runs from.
  const outDir = flags.out === `${THEME_DIR}/` ? packagePath(THEME_DIR) : resolve(flags.out);

  const [result, node] = await Promise.all([buildBundle(), buildNodeCode()]);
  for (const file of result.files) {
    const size = Buffer.byteLength(file.contents);
    const extra = file.path === BUILT.script ? `, ${kb(result.script.gzipBytes)} gzipped (budget ${kb(SCRIPT_GZIP_BUDGET_BYTES)})` : '';
    console.log(`  ${file.path}  ${size} bytes${extra}`);
  }

  const nodeBytes = node.files.reduce((sum, file) => sum + Buffer.byteLength(file.contents), 0);
  console.log(`  ${DIST_DIR}/: ${node.files.length} files, ${nodeBytes} bytes, from ${node.info.inputs.length} sources; imports ${node.packages.join(', ')}`);
  for (const [command, packages] of Object.entries(node.commandPackages)) console.log(`    ${command.padEnd(12)} loads ${packages.join(', ') || 'no package'}`);

  if (flags.check) {
    const differences = await compareWithDir(outDir, result.files);
    if (differences.length > 0) {
      for (const d of differences) console.error(`${pc.red('stale')}: ${flags.out.replace(/\/$/, '')}/${d.path} is ${d.problem === 'missing' ? 'missing' : 'not what the sources build'}`);
      console.error(`  fix: run \`npm run build\` and commit ${flags.out}`);
      return 1;
    }
    console.log(
      `${pc.green('ok')}: ${flags.out} is up to date (${result.files.length} files); ${DIST_DIR}/ compiles with runtime dependencies only, and ${PRODUCTION_COMMANDS.join(', ')} load none of the optional (sandbox) packages or build tools`,
    );
    return 0;
  }
  if (flags.dryRun) {
    console.log(`dry run: nothing written to ${flags.out} or ${DIST_DIR}/`);
    return 0;
  }
  await writeBuiltFiles(outDir, result.files);
  await writeNodeCode(node.files);
  console.log(`${pc.green('built')} ${result.files.length} files into ${flags.out} and ${node.files.length} into ${DIST_DIR}/`);
  return 0;
}

/** Replaces dist/ whole (old chunks would linger otherwise), build-info.json last so a half-written dist/ never counts as built. */
async function writeNodeCode(files: BuiltFile[]): Promise<void> {
  const distDir = resolve(PROJECT_ROOT, DIST_DIR);
  await rm(distDir, { recursive: true, force: true });
  const info = files.filter((file) => file.path === BUILD_INFO);
  await writeBuiltFiles(distDir, files.filter((file) => file.path !== BUILD_INFO));
  await writeBuiltFiles(distDir, info);
}
