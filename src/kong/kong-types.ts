/** Kong Admin API objects, as Kong Gateway Enterprise 1.3-3.4 returns them (see BRIEF.md). */

export interface KongFile {
  id: string;
  path: string;
  contents: string;
  /** sha256 hex of contents unless the writer gave one. */
  checksum: string;
  created_at: number;
}

/** Developer status codes. */
export const DEVELOPER_STATUS = {
  approved: 0,
  pending: 1,
  rejected: 2,
  revoked: 3,
  invited: 4,
  unverified: 5,
} as const;
export type DeveloperStatusName = keyof typeof DEVELOPER_STATUS;
/** The statuses that mean the developer was taken out (rejected, revoked): billing ends, access goes. */
export const REMOVED_DEVELOPER_STATUSES: ReadonlySet<number> = new Set([DEVELOPER_STATUS.rejected, DEVELOPER_STATUS.revoked]);

export function developerStatusName(status: number): DeveloperStatusName | `unknown(${number})` {
  const entry = Object.entries(DEVELOPER_STATUS).find(([, code]) => code === status);
  return entry ? (entry[0] as DeveloperStatusName) : `unknown(${status})`;
}

export interface KongDeveloper {
  id: string;
  email: string;
  status: number;
  /** A JSON string, e.g. "{\"full_name\":\"Ada\",\"plan\":\"growth\"}"; may be null or empty. */
  meta: string | null;
  consumer: { id: string } | null;
  created_at: number;
  updated_at?: number;
  custom_id?: string | null;
}

/** Parses a developer's meta string; anything that is not a JSON object reads as {}. */
export function parseDeveloperMeta(meta: string | null | undefined): Record<string, unknown> {
  if (!meta) return {};
  try {
    const value: unknown = JSON.parse(meta);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface KongWorkspace {
  id: string;
  name: string;
  config: {
    portal?: boolean;
    portal_auth?: 'basic-auth' | 'key-auth' | 'openid-connect' | string | null;
    portal_auto_approve?: boolean | null;
    /** A JSON string in Kong (an array of {title, label, is_email?, required?}). */
    portal_developer_meta_fields?: string | null;
    [key: string]: unknown;
  };
  meta?: Record<string, unknown>;
  created_at?: number;
}

export interface KongEventHook {
  id: string;
  source: string;
  event: string | null;
  handler: string;
  on_change?: boolean | null;
  snooze?: number | null;
  config: { url?: string; secret?: string | null; headers?: Record<string, string>; ssl_verify?: boolean; [key: string]: unknown };
  created_at?: number;
}

export interface KongPlugin {
  id: string;
  name: string;
  enabled: boolean;
  config: Record<string, unknown>;
  service?: { id: string } | null;
  route?: { id: string } | null;
  consumer?: { id: string } | null;
  tags?: string[] | null;
  created_at?: number;
}

/**
 * A paginated list page. `next` differs by entity (core entities: `/<entity>?offset=…` with no
 * workspace prefix; portal lists: the request path with `/{ws}`), so clients page with `offset`
 * and build the URL themselves. `total` (portal lists only) counts this page.
 */
export interface KongPage<T> {
  data: T[];
  next: string | null;
  offset?: string | null;
  total?: number;
}

/** What a consumer-scoped plugin is created with (the consumer comes from the route). */
export interface KongPluginInput {
  name: string;
  config?: Record<string, unknown>;
  enabled?: boolean;
  tags?: string[];
}
