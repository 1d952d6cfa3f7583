#!/usr/bin/env node
// Thin entry point for the `portal-monetization` bin and every npm script: load TypeScript
// through tsx and hand the arguments to the CLI.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
