/**
 * Errors the sync command raises itself (Kong's own failures are KongError) and the exit code of
 * every failure class, so scripts can tell "fix your token" from "fix your theme".
 */
import { MonetizationError } from '../../shared/errors.ts';

/** The theme files cannot be patched safely; nothing was changed. */
export class SyncRefusal extends MonetizationError {
  readonly file: string;
  constructor(code: string, file: string, message: string, hint: string) {
    super(code, `${file}: ${message}`, { hint });
    this.file = file;
  }
}

/**
 * Exit codes of `portal-monetization sync`. Documented in the command's --help and the README;
 * keep them stable.
 */
export const SYNC_EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  tls: 4,
  unauthorized: 5,
  workspaceNotFound: 6,
  portalDisabled: 7,
  refused: 8,
  verifyFailed: 9,
  secretFound: 10,
  bundleMissing: 11,
} as const;

const EXIT_BY_CODE: Record<string, number> = {
  invalid_setting: SYNC_EXIT.usage,
  kong_unreachable: SYNC_EXIT.unreachable,
  kong_tls: SYNC_EXIT.tls,
  kong_unauthorized: SYNC_EXIT.unauthorized,
  kong_workspace_not_found: SYNC_EXIT.workspaceNotFound,
  kong_portal_disabled: SYNC_EXIT.portalDisabled,
  sync_no_register: SYNC_EXIT.refused,
  sync_markers_invalid: SYNC_EXIT.refused,
  sync_no_kong_auth_script: SYNC_EXIT.refused,
  sync_theme_missing: SYNC_EXIT.refused,
  sync_portal_conf_invalid: SYNC_EXIT.refused,
  sync_verify_failed: SYNC_EXIT.verifyFailed,
  secret_in_output: SYNC_EXIT.secretFound,
  sync_bundle_missing: SYNC_EXIT.bundleMissing,
  sync_bundle_invalid: SYNC_EXIT.bundleMissing,
};

export function exitCodeFor(error: unknown): number {
  if (error instanceof MonetizationError) return EXIT_BY_CODE[error.code] ?? SYNC_EXIT.failed;
  return SYNC_EXIT.failed;
}

/** One line per exit code, for --help and the README. */
export const EXIT_CODE_HELP = [
  '  0  done (or nothing to do)',
  '  1  unexpected failure (Kong answered an error during a write, ...)',
  '  2  invalid option or setting',
  '  3  Kong Admin API unreachable (KONG_ADMIN_URL)',
  '  4  TLS error (self-signed certificate: --insecure)',
  '  5  admin token rejected (401/403: KONG_ADMIN_TOKEN and its RBAC role)',
  '  6  workspace does not exist',
  '  7  portal not enabled for the workspace',
  '  8  refused: the theme files cannot be patched safely (nothing changed)',
  '  9  a written file did not read back as written',
  ' 10  a file about to be pushed holds a secret (nothing pushed)',
  ' 11  built bundle missing or invalid (run npm run build)',
].join('\n');
