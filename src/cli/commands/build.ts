/**
 * `portal-monetization build`: builds theme/ (monetization.js, the two splice blocks, the
 * manifest) and prints the sizes; `--check` verifies the committed theme/ is up to date instead.
 */
import { resolve } from 'node:path';
import pc from 'picocolors';
import { THEME_DIR, BUILT } from '../../shared/bundle-layout.ts';
import { buildBundle, SCRIPT_GZIP_BUDGET_BYTES } from '../../build/build-bundle.ts';
import { compareWithDir, writeBuiltFiles } from '../../build/theme-files.ts';
import { Command, parseArgs } from '../command-line.ts';

interface BuildFlags {
  out: string;
  check: boolean;
  dryRun: boolean;
}

const EXAMPLES = `
Examples:
  $ npm run build                                     # write theme/
  $ npx portal-monetization build --check             # fail if theme/ is stale (npm test runs this)
  $ npx portal-monetization build --out /tmp/theme    # write somewhere else
  $ npx portal-monetization build --dry-run           # build and print sizes, write nothing

The build fails, naming the file, if any output holds a Stripe secret key (sk_/rk_ test|live),
a webhook secret (whsec_) or the value of KONG_ADMIN_TOKEN, KONG_ADMIN_TOKEN_FILE's contents,
STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET from the environment.`;

function parseFlags(argv: string[]): BuildFlags | number {
  const program = new Command('portal-monetization build')
    .description('Build theme/: monetization.js, the kong.auth.js register-hook block, the required-scripts.html script-tags block and manifest.json.')
    .option('--out <dir>', 'folder to write (laid out like a portal workspace)', `${THEME_DIR}/`)
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
  const outDir = resolve(flags.out);

  const result = await buildBundle();
  for (const file of result.files) {
    const size = Buffer.byteLength(file.contents);
    const extra = file.path === BUILT.script ? `, ${kb(result.script.gzipBytes)} gzipped (budget ${kb(SCRIPT_GZIP_BUDGET_BYTES)})` : '';
    console.log(`  ${file.path}  ${size} bytes${extra}`);
  }

  if (flags.check) {
    const differences = await compareWithDir(outDir, result.files);
    if (differences.length > 0) {
      for (const d of differences) console.error(`${pc.red('stale')}: ${flags.out.replace(/\/$/, '')}/${d.path} is ${d.problem === 'missing' ? 'missing' : 'not what the sources build'}`);
      console.error(`  fix: run \`npm run build\` and commit ${flags.out}`);
      return 1;
    }
    console.log(`${pc.green('ok')}: ${flags.out} is up to date (${result.files.length} files)`);
    return 0;
  }
  if (flags.dryRun) {
    console.log(`dry run: nothing written to ${flags.out}`);
    return 0;
  }
  await writeBuiltFiles(outDir, result.files);
  console.log(`${pc.green('built')} ${result.files.length} files into ${flags.out}`);
  return 0;
}
