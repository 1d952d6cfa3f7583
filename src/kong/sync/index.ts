/** What other parts of the product use from sync: the whole run, the read-only inspection, exit codes. */
export { syncBundle, type SyncBundleOptions, type SyncBundleResult, type SyncAction } from './sync-bundle.ts';
export { inspectInstall, type InstallInspection, type InspectedFile } from './inspect-install.ts';
export { loadBundle, makeBundle, defaultThemeDir, type Bundle } from './bundle.ts';
export { SYNC_EXIT, exitCodeFor, SyncRefusal } from './sync-errors.ts';
export { DEFAULT_BACKUP_ROOT } from './backups.ts';
