/**
 * The Kong emulator's own wire shapes: what Kong Gateway Enterprise 3.4 answers, written from
 * Kong's schemas (kong/db/schema/entities/*.lua, the plugin schemas) and the Enterprise portal
 * spec, independently of the product's client types (src/kong/kong-types.ts). A wrong belief
 * about Kong in one of them is then caught by the recorded answers in fixtures/, which both the
 * emulator and the client are tested against.
 */

export interface WireFile {
  id: string;
  path: string;
  contents: string;
  checksum: string;
  created_at: number;
}

export interface WireDeveloper {
  id: string;
  email: string;
  /** 0 approved, 1 pending, 2 rejected, 3 revoked, 4 invited, 5 unverified email. */
  status: number;
  /** A JSON string (Kong stores the developer's meta fields serialized). */
  meta: string | null;
  consumer: { id: string } | null;
  created_at: number;
  updated_at?: number;
  custom_id?: string | null;
}

export interface WireWorkspace {
  id: string;
  name: string;
  comment: string | null;
  created_at: number;
  meta: Record<string, unknown>;
  config: Record<string, unknown> & {
    portal?: boolean;
    portal_auth?: string | null;
    portal_auto_approve?: boolean | null;
    /** A JSON string: an array of {title, label, validator}. */
    portal_developer_meta_fields?: string | null;
  };
}

export interface WireEventHook {
  id: string;
  source: string;
  event: string | null;
  handler: string;
  on_change?: boolean | null;
  snooze?: number | null;
  config: { url?: string; secret?: string | null; headers?: Record<string, string>; ssl_verify?: boolean; [key: string]: unknown };
  created_at?: number;
}

/** kong/db/schema/entities/plugins.lua: every field is answered, null when unset. */
export interface WirePlugin {
  id: string;
  name: string;
  instance_name: string | null;
  enabled: boolean;
  config: Record<string, unknown>;
  protocols: string[];
  service: { id: string } | null;
  route: { id: string } | null;
  consumer: { id: string } | null;
  tags: string[] | null;
  created_at: number;
  updated_at: number;
}

/** typedefs.protocols_http's default. */
export const HTTP_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'];

/** The workspace's meta string as an object; anything but a JSON object reads as {}. */
export function metaObject(meta: string | null | undefined): Record<string, unknown> {
  if (!meta) return {};
  try {
    const value: unknown = JSON.parse(meta);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
