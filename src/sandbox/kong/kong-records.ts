/** The records the Kong emulator's state keeps (files, consumers, developers, plugins, sessions, deliveries) and their API views. */
import { createHash } from 'node:crypto';
import type { WireDeveloper, WireEventHook, WireFile, WirePlugin, WireWorkspace } from './wire-types.ts';

export const DEFAULT_META_FIELDS = JSON.stringify([{ label: 'Full Name', title: 'full_name', validator: { required: true, type: 'string' } }]);

/** One developer meta field as Kong stores it in `portal_developer_meta_fields`. */
export interface MetaFieldDefinition {
  title: string;
  label?: string;
  validator?: { required?: boolean; type?: string };
  is_email?: boolean;
}

export interface StoredFile extends WireFile {
  seq: number;
}

export interface KongConsumer {
  id: string;
  username: string;
  custom_id: string | null;
  seq: number;
  /** Kong marks developer consumers with type 1 (proxy consumers are 0). */
  type: number;
  created_at: number;
  updated_at: number;
  tags: string[] | null;
}

/** A plugin as the emulator stores it (sequence number for core pagination). */
export interface StoredPlugin extends WirePlugin {
  seq: number;
  tags: string[] | null;
  created_at: number;
  updated_at: number;
}

export type StoredEventHook = WireEventHook & { workspace: string; seq: number };

export interface StoredDeveloper extends WireDeveloper {
  seq: number;
  updated_at: number;
}

export interface KeyAuthCredential {
  id: string;
  key: string;
  consumer: { id: string };
  created_at: number;
  ttl: number | null;
  tags: string[] | null;
}

interface BasicAuthCredential {
  id: string;
  username: string;
  consumer: { id: string };
  created_at: number;
  /** sha256(consumer id + password): salted so equal passwords differ. */
  passwordHash: string;
}

export interface WorkspaceRecord {
  workspace: WireWorkspace;
  files: Map<string, StoredFile>;
  developers: Map<string, StoredDeveloper>;
  developersByEmail: Map<string, string>;
  consumers: Map<string, KongConsumer>;
  plugins: Map<string, StoredPlugin>;
  keyAuth: Map<string, KeyAuthCredential>;
  basicAuth: Map<string, BasicAuthCredential>;
}

export interface PortalSession {
  id: string;
  workspace: string;
  developerId: string;
  expiresAt: number;
}

/** One webhook POST the emulator made (or tried to make) for an event hook. */
export interface HookDelivery {
  hookId: string;
  url: string;
  event: string;
  operation: string;
  body: string;
  signature: string | undefined;
  status: number | undefined;
  error: string | undefined;
}

/** One Moesif event POST the proxy made (or tried to make). */
export interface MoesifDelivery {
  url: string;
  userId: string | undefined;
  status: number | undefined;
  error: string | undefined;
}

export type DeveloperEventListener = (workspace: string, operation: 'create' | 'update' | 'delete', entity: WireDeveloper, old: WireDeveloper | null) => void;

export interface AddDeveloperInput {
  email: string;
  meta?: Record<string, unknown> | string;
  status?: number;
  password?: string;
  /** Create a key-auth credential with this key on the developer's consumer. */
  key?: string;
  /** Kong copies it onto the consumer; the product must never set it (it breaks user = email in Moesif). */
  custom_id?: string;
}

/** How long a portal login session lasts in the emulator. */
export const SESSION_TTL_MS = 60 * 60 * 1000;

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Public view of a stored developer (drops the internal sequence number). */
export function developerView(developer: StoredDeveloper): WireDeveloper & { updated_at: number } {
  const { seq: _seq, ...view } = developer;
  return view;
}

export function fileView(file: StoredFile): WireFile {
  const { seq: _seq, ...view } = file;
  return view;
}

