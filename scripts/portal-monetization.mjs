#!/usr/bin/env node
// Entry point for the `portal-monetization` bin and every npm script. Runs the compiled CLI in
// dist/ when `npm run build` made it from the current sources (fast start, no compiler loaded);
// otherwise (fresh clone, edited sources) loads the TypeScript sources through tsx.
// PORTAL_MONETIZATION_CODE=compiled|sources|auto (default auto) forces one or the other.
import { pathToFileURL, fileURLToPath } from 'node:url';
import { chooseCode } from './compiled-cli.mjs';

// A reader that stops early (`… --help | head -2`) closes the pipe: stop quietly, as Unix tools do,
// instead of crashing on the next write with an EPIPE stack trace. Other stream errors still throw.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

const choice = chooseCode(fileURLToPath(new URL('..', import.meta.url)), process.env.PORTAL_MONETIZATION_CODE || 'auto');
if ('error' in choice) {
  console.error(`error: ${choice.error}`);
  process.exit(1);
}
let cli;
if ('compiled' in choice) {
  cli = await import(pathToFileURL(choice.compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli/main.ts');
}
process.exitCode = await cli.runCli(process.argv.slice(2));
