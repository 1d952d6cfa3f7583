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
 * Exit codes of `portal-monetization sync`. Documented in the command's --help and docs/error-codes.md;
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

/** What each exit code means: --help prints it, docs/error-codes.md is generated from it (npm run docs). */
export const SYNC_EXIT_CODES: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: SYNC_EXIT.ok, meaning: 'done (or nothing to do)' },
  { code: SYNC_EXIT.failed, meaning: 'unexpected failure (Kong answered an error during a write, ...)' },
  { code: SYNC_EXIT.usage, meaning: 'invalid option or setting' },
  { code: SYNC_EXIT.unreachable, meaning: 'Kong Admin API unreachable (KONG_ADMIN_URL)' },
  { code: SYNC_EXIT.tls, meaning: 'TLS error (self-signed certificate: --insecure)' },
  { code: SYNC_EXIT.unauthorized, meaning: 'admin token rejected (401/403: KONG_ADMIN_TOKEN and its RBAC role)' },
  { code: SYNC_EXIT.workspaceNotFound, meaning: 'workspace does not exist' },
  { code: SYNC_EXIT.portalDisabled, meaning: 'portal not enabled for the workspace' },
  { code: SYNC_EXIT.refused, meaning: 'refused: the theme files cannot be patched safely (nothing changed)' },
  { code: SYNC_EXIT.verifyFailed, meaning: 'a written file did not read back as written' },
  { code: SYNC_EXIT.secretFound, meaning: 'a file about to be pushed holds a secret (nothing pushed)' },
  { code: SYNC_EXIT.bundleMissing, meaning: 'built bundle missing or invalid (run npm run build)' },
];

/** One line per exit code, for --help. */
export const EXIT_CODE_HELP = SYNC_EXIT_CODES.map(({ code, meaning }) => `${String(code).padStart(3)}  ${meaning}`).join('\n');
