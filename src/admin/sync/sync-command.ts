/**
 * `portal-monetization sync`: install, upgrade or uninstall the bundle in a Kong portal workspace
 * through the Admin Files API. The work is done by syncBundle (./sync-bundle.ts); this file parses
 * options, prints progress, the diff or the result table, and maps failures to exit codes.
 */
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { readKongSettings } from '../../kong/kong-settings.ts';
import { parseThemeName } from './active-theme.ts';
import { abbreviateLongLines } from './render-diff.ts';
import { EXIT_CODE_HELP, exitCodeFor, SYNC_EXIT } from './sync-errors.ts';
import { syncBundle, type SyncBundleResult } from './sync-bundle.ts';
import { parseHeaders, readEventHookSecret } from './sync-settings.ts';
import { MonetizationError } from '../../shared/errors.ts';

interface SyncFlags {
  workspace?: string;
  provisionerUrl?: string;
  theme?: string;
  dryRun?: boolean;
  uninstall?: boolean;
  configureWorkspace?: boolean;
  eventHook?: boolean;
  insecure?: boolean;
  header: string[];
  planField?: boolean;
  json?: boolean;
}

interface SyncIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Colours and progress lines (a terminal); default: stderr is a TTY. */
  interactive: boolean;
  /** Where backups go; default .kong-portal-monetization/backups under the cwd. */
  backupRoot?: string;
}

const HELP_AFTER = `
Environment:
  KONG_ADMIN_URL          Kong Admin API URL, e.g. http://127.0.0.1:8001 (required)
  KONG_ADMIN_TOKEN        RBAC token sent as Kong-Admin-Token (needs read and write on /files)
  KONG_ADMIN_TOKEN_FILE   file holding the token; wins over KONG_ADMIN_TOKEN
  KONG_WORKSPACE          workspace when --workspace is not given (default: default)
  KONG_EVENT_HOOK_SECRET  secret of the developers event hook (--event-hook)

Examples:
  $ export KONG_ADMIN_URL=https://kong-admin.internal:8444 KONG_ADMIN_TOKEN_FILE=~/.kong-token
  $ npm run sync -- --provisioner-url https://billing.example.com --dry-run    # show the diff, write nothing
  $ npm run sync -- --provisioner-url https://billing.example.com             # install or upgrade
  $ npm run sync -- --workspace partners --theme acme --provisioner-url https://billing.example.com \\
      --configure-workspace --event-hook                                      # + plan field, + event hook
  $ npm run sync -- --uninstall                                               # restore the theme files
  $ npm run sync -- --insecure --header 'X-Proxy-Auth: abc' --provisioner-url https://billing.example.com --json

Only three files are ever written: themes/<theme>/assets/js/third-party/monetization.js (created),
themes/<theme>/assets/js/kong/kong.auth.js and themes/<theme>/partials/theme/required-scripts.html
(a marked block each). Before changing a file, sync copies it to
.kong-portal-monetization/backups/<workspace>/<timestamp>/<path>.

Exit codes:
${EXIT_CODE_HELP}`;

function syncProgram(io: SyncIo): Command {
  return new Command('portal-monetization sync')
    .description('Install, upgrade or uninstall the monetization bundle in a Kong Dev Portal workspace (Admin Files API).')
    .option('--workspace <name>', 'Kong workspace (default: $KONG_WORKSPACE, else "default")')
    .option('--provisioner-url <url>', 'public http(s) URL of the provisioner as the browser reaches it (required to install)')
    .option('--theme <name>', 'theme folder to patch (default: theme.name in portal.conf.yaml, else "base")')
    .option('--dry-run', 'print a unified diff of every planned change and write nothing')
    .option('--uninstall', 'remove both blocks and monetization.js (with --event-hook: also the event hook)')
    .option('--configure-workspace', 'ensure the workspace developer meta fields hold an optional "plan" field')
    .option('--event-hook', 'ensure exactly one developers event hook to <provisioner-url>/kong/events (KONG_EVENT_HOOK_SECRET)')
    .option('--insecure', 'accept a self-signed TLS certificate from the Admin API')
    .option('--header <header>', "extra header on every Admin API request, 'Name: value' (repeatable)", (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--plan-field', 'tell the page the workspace has a plan field (default: detected from the workspace)')
    .option('--no-plan-field', 'tell the page there is no plan field (no plan picker)')
    .option('--json', 'print a JSON summary on stdout instead of the table')
    .addHelpText('after', HELP_AFTER)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
}

function processIo(): SyncIo {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
  };
}

export async function runSyncCommand(argv: string[], io: SyncIo = processIo()): Promise<number> {
  const program = syncProgram(io);
  // Not shared/command-line.ts's parseArgs: sync prints through io (tests capture it) and adds no
  // "(run with --help)" line, and its usage exit code comes from SYNC_EXIT.
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? SYNC_EXIT.ok : SYNC_EXIT.usage;
    throw error;
  }
  const flags = program.opts<SyncFlags>();
  const colors = pc.createColors(io.interactive && !io.env.NO_COLOR);
  // Secrets we hold are scrubbed from everything we print, errors included.
  const secrets: string[] = [];
  const redact = (text: string) => secrets.reduce((out, secret) => (secret.length >= 4 ? out.split(secret).join('***') : out), text);
  const out = (text: string) => io.stdout(redact(text));
  const err = (text: string) => io.stderr(redact(text));

  try {
    const settings = readKongSettings(io.env, { workspace: flags.workspace });
    if (settings.token) secrets.push(settings.token);
    const headers = parseHeaders(flags.header);
    secrets.push(...Object.values(headers));
    const theme = flags.theme === undefined ? undefined : parseThemeName(flags.theme);
    const eventHookSecret = flags.eventHook && !flags.uninstall ? readEventHookSecret(io.env) : undefined;
    if (eventHookSecret) secrets.push(eventHookSecret);
    if (!flags.uninstall && isPlainHttpRemote(flags.provisionerUrl))
      err(`${colors.yellow('warning')}: --provisioner-url is plain http; browsers block it from a portal served over https\n`);
    if (flags.uninstall && flags.configureWorkspace) err(`${colors.yellow('note')}: --configure-workspace is ignored with --uninstall (the plan field and developers' plans are kept)\n`);

    const client = new KongAdminClient({ adminUrl: settings.adminUrl, token: settings.token, workspace: settings.workspace, headers, insecure: flags.insecure === true });
    const result = await syncBundle({
      client,
      provisionerUrl: flags.provisionerUrl,
      theme,
      uninstall: flags.uninstall === true,
      dryRun: flags.dryRun === true,
      configureWorkspace: flags.configureWorkspace === true,
      eventHook: flags.eventHook ? { secret: eventHookSecret } : undefined,
      planField: flags.planField,
      secretEnv: { ...io.env, KONG_ADMIN_TOKEN: settings.token },
      ...(io.backupRoot === undefined ? {} : { backupRoot: io.backupRoot }),
      onProgress: (message) => {
        if (io.interactive && !flags.json) err(`${colors.dim(`… ${message}`)}\n`);
      },
    });
    if (flags.json) out(`${JSON.stringify(summary(result), null, 2)}\n`);
    else out(render(result, colors));
    return SYNC_EXIT.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    if (flags.json) out(`${JSON.stringify({ ok: false, exitCode: code, error: describeError(error) }, null, 2)}\n`);
    if (error instanceof MonetizationError) err(`${colors.red('error')} [${error.code}]: ${error.describe()}\n`);
    else err(`${colors.red('error')}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (code === SYNC_EXIT.refused || code === SYNC_EXIT.secretFound) err('nothing was changed in the workspace\n');
    return code;
  }
}

/** http to anything but loopback: an https portal page may not call it (mixed content). */
function isPlainHttpRemote(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return false; // parseProvisionerUrl reports it
  }
}

function describeError(error: unknown): { code: string; message: string; hint?: string } {
  if (error instanceof MonetizationError) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'unexpected', message: error instanceof Error ? error.message : String(error) };
}

function summary(result: SyncBundleResult) {
  return {
    ok: true,
    workspace: result.workspace,
    theme: result.theme,
    mode: result.mode,
    dryRun: result.dryRun,
    version: result.version ?? null,
    writes: result.writes,
    actions: result.actions,
    backupDir: result.backupDir ?? null,
    ...(result.dryRun ? { diffs: result.diffs } : {}),
  };
}

type Colors = ReturnType<typeof pc.createColors>;

function render(result: SyncBundleResult, colors: Colors): string {
  const lines: string[] = [];
  if (result.dryRun) {
    lines.push(colors.bold(`dry run: ${result.mode} in workspace ${result.workspace}, theme ${result.theme}; nothing was written`));
    for (const diff of result.diffs) lines.push(colorDiff(abbreviateLongLines(diff), colors));
    if (result.diffs.length === 0) lines.push('no changes');
  }
  const width = Math.max('file'.length, ...result.actions.map((action) => action.target.length));
  const verb = (action: string) => (result.dryRun && action !== 'unchanged' ? `would be ${action}` : action);
  const paint = (action: string) => (action === 'unchanged' ? colors.dim : action === 'removed' ? colors.yellow : colors.green)(verb(action));
  lines.push('', `${colors.bold('file'.padEnd(width))}  ${colors.bold('action')}`);
  for (const action of result.actions) lines.push(`${action.target.padEnd(width)}  ${paint(action.action)}`);
  const counts = new Map<string, number>();
  for (const action of result.actions) counts.set(action.action, (counts.get(action.action) ?? 0) + 1);
  const tally = [...counts].map(([action, count]) => `${count} ${verb(action)}`).join(', ');
  lines.push('', `${result.mode}${result.version ? ` v${result.version}` : ''} · workspace ${result.workspace} · theme ${result.theme} · ${tally} · ${result.writes} writes`);
  if (result.backupDir) lines.push(`backups: ${result.backupDir}`);
  return `${lines.join('\n')}\n`;
}

function colorDiff(diff: string, colors: Colors): string {
  return diff
    .split('\n')
    .map((line) => (line.startsWith('+') && !line.startsWith('+++') ? colors.green(line) : line.startsWith('-') && !line.startsWith('---') ? colors.red(line) : line))
    .join('\n');
}
