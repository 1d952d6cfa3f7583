/**
 * syncBundle: the whole sync as a function (the CLI, the sandbox's `npm start` and tests call it).
 * preflight -> read the workspace -> plan -> (dry run: diffs | backups, writes, read-back) ->
 * optional workspace config and event hook.
 */
import { DEFAULT_BACKUP_ROOT, Backups } from './backups.ts';
import { activeTheme, PORTAL_CONF } from './active-theme.ts';
import { applyPlan, DONE, type FileAction, type FileResult } from './apply-sync.ts';
import { loadBundle, type Bundle } from './bundle.ts';
import { ensurePlanField, hasPlanField } from './configure-workspace.ts';
import { ensureEventHook, eventHookUrl, removeEventHooks, type EventHookAction } from './event-hook.ts';
import { planInstall, planUninstall, type PlannedFile } from './plan-sync.ts';
import { preflight } from './preflight.ts';
import { unifiedDiff } from './render-diff.ts';
import { parseProvisionerUrl } from './sync-settings.ts';
import { assertNoSecrets, type Environment } from '../../shared/secret-scan.ts';
import { SettingError } from '../../shared/errors.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongFile } from '../../kong/kong-types.ts';

export interface SyncBundleOptions {
  client: KongAdminClient;
  /** Required unless uninstalling. */
  provisionerUrl?: string | undefined;
  /** Theme folder; default: theme.name of portal.conf.yaml, else base. */
  theme?: string | undefined;
  uninstall?: boolean;
  dryRun?: boolean;
  configureWorkspace?: boolean;
  /** Ensure (install) or remove (uninstall) the developers event hook; install needs the secret. */
  eventHook?: { secret?: string | undefined } | undefined;
  /** Override the public config's planField; default: the workspace has a `plan` meta field. */
  planField?: boolean | undefined;
  /** The built bundle; default: read from the package's theme/. */
  bundle?: Bundle;
  /** Where backups go (cwd-relative by default). */
  backupRoot?: string;
  /** Files API page size (Kong allows 1..1000). */
  pageSize?: number;
  /**
   * Environment whose secrets (KONG_ADMIN_TOKEN, STRIPE_SECRET_KEY, ...) must never be pushed;
   * default process.env. The CLI adds the token it actually uses.
   */
  secretEnv?: Environment;
  onProgress?: (message: string) => void;
  now?: () => Date;
}

type SyncActionName = FileAction | EventHookAction;

interface SyncAction {
  kind: 'file' | 'workspace-config' | 'event-hook';
  target: string;
  /** What was done, or with dryRun what would be done. */
  action: SyncActionName;
}

export interface SyncBundleResult {
  workspace: string;
  theme: string;
  mode: 'install' | 'uninstall';
  dryRun: boolean;
  /** Bundle version installed (install only). */
  version: string | undefined;
  actions: SyncAction[];
  /** HTTP writes made (PUT, DELETE, PATCH, POST): 0 on a dry run or when everything was current. */
  writes: number;
  /** Unified diffs of every planned change (dry run only). */
  diffs: string[];
  /** Directory holding this run's backups, when a file changed. */
  backupDir: string | undefined;
  /** Files seen in the workspace (all pages). */
  filesInWorkspace: number;
}

export async function syncBundle(options: SyncBundleOptions): Promise<SyncBundleResult> {
  const { client } = options;
  const progress = options.onProgress ?? (() => {});
  const mode = options.uninstall ? 'uninstall' : 'install';
  const dryRun = options.dryRun === true;
  // Settings before any request: a missing URL is the user's typo, not Kong's problem.
  const provisionerUrl = mode === 'install' ? parseProvisionerUrl(options.provisionerUrl) : undefined;
  if (mode === 'install' && options.eventHook && !options.eventHook.secret)
    throw new SettingError('KONG_EVENT_HOOK_SECRET', 'is not set (needed by --event-hook)', 'set it to the secret the provisioner checks x-kong-signature with');
  const bundle = mode === 'install' ? (options.bundle ?? (await loadBundle())) : undefined;

  progress(`checking Kong at ${client.adminUrl}, workspace ${client.workspace}`);
  const workspace = await preflight(client);

  progress('reading workspace files');
  const files = new Map<string, KongFile>();
  for await (const file of client.listFiles(options.pageSize ?? 100)) files.set(file.path, file);
  const theme = options.theme ?? activeTheme(files.get(PORTAL_CONF)?.contents);
  progress(`${files.size} files, theme ${theme}`);

  const actions: SyncAction[] = [];
  const diffs: string[] = [];
  let writes = 0;

  let workspaceForConfig = workspace;
  if (mode === 'install' && options.configureWorkspace) {
    const result = await ensurePlanField(client, workspace, dryRun);
    writes += result.writes;
    if (result.action === 'updated' && dryRun) diffs.push(unifiedDiff(`workspaces/${client.workspace} config.portal_developer_meta_fields`, `${result.before}\n`, `${result.after}\n`));
    actions.push({ kind: 'workspace-config', target: 'portal_developer_meta_fields (plan field)', action: result.action });
    if (result.action === 'updated' && !dryRun) workspaceForConfig = { ...workspace, config: { ...workspace.config, portal_developer_meta_fields: result.after } };
  }

  const plan = bundle
    ? planInstall(files, theme, bundle, { provisionerUrl: provisionerUrl ?? '', planField: options.planField ?? (options.configureWorkspace === true || hasPlanField(workspaceForConfig)) })
    : planUninstall(files, theme);
  const changing = plan.filter((file) => file.action !== 'unchanged');
  assertNoSecrets(
    changing.flatMap((file) => (file.after === undefined ? [] : [{ path: file.path, contents: file.after }])),
    options.secretEnv ?? process.env,
  );

  let backupDir: string | undefined;
  if (dryRun) {
    for (const file of changing) diffs.push(unifiedDiff(file.path, file.before, file.after));
    actions.push(...plan.map((file) => fileAction(file, DONE[file.action])));
  } else {
    const backups = new Backups(options.backupRoot ?? DEFAULT_BACKUP_ROOT, client.workspace, (options.now ?? (() => new Date()))());
    const applied = await applyPlan(client, plan, { backups, onWrite: (file) => progress(`${file.action} ${file.path}`) });
    writes += applied.writes;
    actions.push(...applied.results.map((result: FileResult) => ({ kind: 'file' as const, target: result.path, action: result.action })));
    if (backups.saved.length) backupDir = backups.dir;
  }

  if (options.eventHook) {
    const result =
      mode === 'install'
        ? await ensureEventHook(client, { url: eventHookUrl(provisionerUrl ?? ''), secret: options.eventHook.secret ?? '' }, dryRun)
        : await removeEventHooks(client, dryRun);
    writes += result.writes;
    actions.push({ kind: 'event-hook', target: `crud/developers -> ${mode === 'install' ? eventHookUrl(provisionerUrl ?? '') : '*/kong/events'}`, action: result.action });
  }

  return { workspace: client.workspace, theme, mode, dryRun, version: bundle?.version, actions, writes, diffs, backupDir, filesInWorkspace: files.size };
}

function fileAction(file: PlannedFile, action: FileAction): SyncAction {
  return { kind: 'file', target: file.path, action };
}
