/**
 * The in-memory world behind the Kong emulator: workspaces with their files, developers,
 * consumers, credentials and sessions, plus the global event hooks. The HTTP apps (admin,
 * portal API, pages, proxy) are thin layers over this; tests use the helpers here directly.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { HTTP_PROTOCOLS, type WireDeveloper, type WireWorkspace } from './wire-types.ts';
import { ProxyView } from './propagation.ts';
import { RateLimitCounters } from './rate-limiting.ts';

export * from './kong-records.ts';
import { SESSION_TTL_MS, DEFAULT_META_FIELDS, type MetaFieldDefinition, type StoredFile, type KongConsumer, type StoredPlugin, type StoredEventHook, type StoredDeveloper, type KeyAuthCredential, type WorkspaceRecord, type PortalSession, type HookDelivery, type MoesifDelivery, type DeveloperEventListener, type AddDeveloperInput, nowSeconds, sha256Hex, developerView } from './kong-records.ts';
/** A plugin to store: Kong fills instance_name (null) and protocols (the HTTP set) when not given. */
export type PluginInput = Omit<StoredPlugin, 'seq' | 'created_at' | 'updated_at' | 'instance_name' | 'protocols'> & { created_at?: number; instance_name?: string | null; protocols?: string[] };

export class KongEmulatorState {
  readonly workspaces = new Map<string, WorkspaceRecord>();
  readonly eventHooks = new Map<string, StoredEventHook>();
  readonly sessions = new Map<string, PortalSession>();
  readonly hookDeliveries: HookDelivery[] = [];
  readonly moesifDeliveries: MoesifDelivery[] = [];
  /** Async work (webhooks, Moesif posts) still in flight; `settle()` waits for it. */
  readonly pending = new Set<Promise<unknown>>();
  /** Plugins and key-auth credentials as the proxy sees them: changes arrive after the propagation delay. */
  readonly proxyView: ProxyView;
  /** The rate-limiting plugin's counters (one shared, exact counter per identifier and window). */
  readonly rateLimits = new RateLimitCounters();
  /** The proxy's clock (ms); tests move it to cross rate-limit windows. */
  now: () => number = () => Date.now();
  /** Base URLs the apps need to know about each other; filled in when the servers listen. */
  readonly urls = { admin: 'http://127.0.0.1:8001', pages: 'http://127.0.0.1:8003', portalApi: 'http://127.0.0.1:8004', proxy: 'http://127.0.0.1:8000' };
  private readonly listeners: DeveloperEventListener[] = [];
  private seq = 0;

  /** `propagationMs`: how long a plugin or credential change takes to reach the proxy (0 = at once). */
  constructor(workspaceNames: string[] = ['default'], propagationMs = 0) {
    this.proxyView = new ProxyView(propagationMs);
    for (const name of new Set(['default', ...workspaceNames])) this.createWorkspace(name);
  }

  createWorkspace(name: string): WorkspaceRecord {
    const existing = this.workspaces.get(name);
    if (existing) return existing;
    const record: WorkspaceRecord = {
      workspace: {
        id: randomUUID(),
        name,
        comment: null,
        created_at: nowSeconds(),
        meta: { color: null, thumbnail: null },
        config: {
          portal: false,
          portal_auth: null,
          portal_auto_approve: null,
          portal_developer_meta_fields: DEFAULT_META_FIELDS,
          portal_email_verification: null,
          portal_session_conf: null,
          portal_cors_origins: null,
          portal_token_exp: null,
          portal_is_legacy: null,
          meta: null,
        },
      } as WireWorkspace,
      files: new Map(),
      developers: new Map(),
      developersByEmail: new Map(),
      consumers: new Map(),
      plugins: new Map(),
      keyAuth: new Map(),
      basicAuth: new Map(),
    };
    this.workspaces.set(name, record);
    return record;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** The workspace record, or undefined for an unknown name. */
  ws(name: string): WorkspaceRecord | undefined {
    return this.workspaces.get(name);
  }

  /** Like ws() but throws: for helpers called by tests, where a typo should fail loudly. */
  requireWs(name: string): WorkspaceRecord {
    const record = this.workspaces.get(name);
    if (!record) throw new Error(`Kong emulator: no workspace named "${name}"`);
    return record;
  }

  /** Shallow-merges `config` into the workspace config (as PATCH /workspaces/{ws} does). */
  patchWorkspaceConfig(name: string, config: Record<string, unknown>): WireWorkspace {
    const record = this.requireWs(name);
    record.workspace.config = { ...record.workspace.config, ...config };
    return record.workspace;
  }

  portalEnabled(name: string): boolean {
    return this.workspaces.get(name)?.workspace.config.portal === true;
  }

  /** The workspace's developer meta fields (parsed from Kong's JSON string; bad JSON reads as none). */
  metaFields(name: string): MetaFieldDefinition[] {
    const raw = this.requireWs(name).workspace.config.portal_developer_meta_fields;
    if (typeof raw !== 'string' || raw === '') return [];
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter((f): f is MetaFieldDefinition => typeof f?.title === 'string') : [];
    } catch {
      return [];
    }
  }

  // ---- files -------------------------------------------------------------------------------

  /** Stores a file the way Kong does (checksum = sha256 of contents unless given). */
  putFile(workspace: string, path: string, contents: string, checksum?: string): { file: StoredFile; created: boolean } {
    const record = this.requireWs(workspace);
    const existing = record.files.get(path);
    const file: StoredFile = {
      id: existing?.id ?? randomUUID(),
      path,
      contents,
      checksum: checksum ?? sha256Hex(contents),
      created_at: existing?.created_at ?? nowSeconds(),
      seq: existing?.seq ?? this.nextSeq(),
    };
    record.files.set(path, file);
    return { file, created: !existing };
  }

  getFile(workspace: string, pathOrId: string): StoredFile | undefined {
    const record = this.requireWs(workspace);
    const byPath = record.files.get(pathOrId);
    if (byPath) return byPath;
    for (const file of record.files.values()) if (file.id === pathOrId) return file;
    return undefined;
  }

  deleteFile(workspace: string, path: string): boolean {
    return this.requireWs(workspace).files.delete(path);
  }

  // ---- consumers, developers, credentials --------------------------------------------------

  onDeveloperEvent(listener: DeveloperEventListener): void {
    this.listeners.push(listener);
  }

  private emitDeveloperEvent(...args: Parameters<DeveloperEventListener>): void {
    for (const listener of this.listeners) listener(...args);
  }

  getDeveloper(workspace: string, emailOrId: string): StoredDeveloper | undefined {
    const record = this.requireWs(workspace);
    const id = record.developersByEmail.get(emailOrId.toLowerCase()) ?? emailOrId;
    return record.developers.get(id);
  }

  /**
   * Creates a developer with its consumer (username = email, no custom_id) and optional
   * basic-auth password and key-auth key. Test helper and the portal's register share it;
   * `emitEvent` decides whether event hooks fire (seeding thousands of developers should not).
   */
  addDeveloper(workspace: string, input: AddDeveloperInput, options: { emitEvent?: boolean } = {}): StoredDeveloper {
    const record = this.requireWs(workspace);
    const email = input.email.trim();
    if (record.developersByEmail.has(email.toLowerCase())) throw new Error(`Kong emulator: developer ${email} already exists`);
    const now = nowSeconds();
    const consumer: KongConsumer = { id: randomUUID(), username: email, custom_id: input.custom_id ?? null, type: 1, created_at: now, updated_at: now, tags: null, seq: this.nextSeq() };
    record.consumers.set(consumer.id, consumer);
    const meta = input.meta === undefined ? '{}' : typeof input.meta === 'string' ? input.meta : JSON.stringify(input.meta);
    const developer: StoredDeveloper = {
      id: randomUUID(),
      email,
      status: input.status ?? 0,
      meta,
      ...(input.custom_id === undefined ? {} : { custom_id: input.custom_id }),
      consumer: { id: consumer.id },
      created_at: now,
      updated_at: now,
      seq: this.nextSeq(),
    };
    record.developers.set(developer.id, developer);
    record.developersByEmail.set(email.toLowerCase(), developer.id);
    if (input.password !== undefined) {
      record.basicAuth.set(consumer.id, {
        id: randomUUID(),
        username: email,
        consumer: { id: consumer.id },
        created_at: now,
        passwordHash: sha256Hex(consumer.id + input.password),
      });
    }
    if (input.key !== undefined) this.addKey(workspace, consumer.id, input.key);
    if (options.emitEvent) this.emitDeveloperEvent(workspace, 'create', developerView(developer), null);
    return developer;
  }

  /** Changes status/meta/email of a developer; fires an `update` event. */
  updateDeveloper(workspace: string, emailOrId: string, patch: { status?: number; meta?: string; email?: string }): StoredDeveloper | undefined {
    const record = this.requireWs(workspace);
    const developer = this.getDeveloper(workspace, emailOrId);
    if (!developer) return undefined;
    const old = developerView({ ...developer });
    if (patch.status !== undefined) developer.status = patch.status;
    if (patch.meta !== undefined) developer.meta = patch.meta;
    if (patch.email !== undefined && patch.email !== developer.email) {
      record.developersByEmail.delete(developer.email.toLowerCase());
      developer.email = patch.email;
      record.developersByEmail.set(patch.email.toLowerCase(), developer.id);
      const consumer = developer.consumer && record.consumers.get(developer.consumer.id);
      if (consumer) {
        consumer.username = patch.email;
        consumer.updated_at = nowSeconds();
      }
    }
    developer.updated_at = nowSeconds();
    this.emitDeveloperEvent(workspace, 'update', developerView(developer), old);
    return developer;
  }

  /** Removes a developer, its consumer, credentials and sessions; fires a `delete` event. */
  deleteDeveloper(workspace: string, emailOrId: string): boolean {
    const record = this.requireWs(workspace);
    const developer = this.getDeveloper(workspace, emailOrId);
    if (!developer) return false;
    record.developers.delete(developer.id);
    record.developersByEmail.delete(developer.email.toLowerCase());
    const consumerId = developer.consumer?.id;
    if (consumerId) this.deleteConsumer(workspace, consumerId);
    for (const [id, session] of this.sessions) if (session.developerId === developer.id) this.sessions.delete(id);
    this.emitDeveloperEvent(workspace, 'delete', developerView(developer), null);
    return true;
  }

  /** Developers in creation order (test helper). */
  listDevelopers(workspace: string): WireDeveloper[] {
    return [...this.requireWs(workspace).developers.values()].map(developerView);
  }

  addKey(workspace: string, consumerId: string, key?: string): KeyAuthCredential {
    const record = this.requireWs(workspace);
    const value = key ?? randomBytes(24).toString('base64url');
    if (record.keyAuth.has(value)) throw new Error(`Kong emulator: key-auth key already exists`);
    const credential: KeyAuthCredential = { id: randomUUID(), key: value, consumer: { id: consumerId }, created_at: nowSeconds(), ttl: null, tags: null };
    record.keyAuth.set(value, credential);
    this.proxyView.key(workspace, value, credential);
    return credential;
  }

  deleteKey(workspace: string, key: string): void {
    if (this.requireWs(workspace).keyAuth.delete(key)) this.proxyView.key(workspace, key, undefined);
  }

  /** Removes a consumer with its credentials and plugins, as Kong's cascade does. */
  deleteConsumer(workspace: string, consumerId: string): void {
    const record = this.requireWs(workspace);
    record.consumers.delete(consumerId);
    record.basicAuth.delete(consumerId);
    for (const [id, plugin] of record.plugins) if (plugin.consumer?.id === consumerId) this.deletePlugin(workspace, id);
    for (const [key, credential] of record.keyAuth) if (credential.consumer.id === consumerId) this.deleteKey(workspace, key);
  }

  keysOf(workspace: string, consumerId: string): KeyAuthCredential[] {
    return [...this.requireWs(workspace).keyAuth.values()].filter((c) => c.consumer.id === consumerId);
  }

  /** The developer whose basic-auth credentials match, or undefined. */
  checkPassword(workspace: string, email: string, password: string): StoredDeveloper | undefined {
    const developer = this.getDeveloper(workspace, email);
    const consumerId = developer?.consumer?.id;
    const credential = consumerId ? this.requireWs(workspace).basicAuth.get(consumerId) : undefined;
    if (!developer || !credential) return undefined;
    const given = Buffer.from(sha256Hex(credential.consumer.id + password), 'hex');
    const stored = Buffer.from(credential.passwordHash, 'hex');
    return timingSafeEqual(given, stored) ? developer : undefined;
  }

  developerByConsumer(workspace: string, consumerId: string): StoredDeveloper | undefined {
    for (const developer of this.requireWs(workspace).developers.values()) if (developer.consumer?.id === consumerId) return developer;
    return undefined;
  }

  // ---- plugins -----------------------------------------------------------------------------

  /** Stores a plugin (new or replaced) in the workspace, keeping its sequence number on replace. */
  putPlugin(workspace: string, plugin: PluginInput): StoredPlugin {
    const record = this.requireWs(workspace);
    const existing = record.plugins.get(plugin.id);
    const now = nowSeconds();
    const stored: StoredPlugin = {
      instance_name: null,
      protocols: [...HTTP_PROTOCOLS],
      ...plugin,
      created_at: existing?.created_at ?? plugin.created_at ?? now,
      updated_at: now,
      seq: existing?.seq ?? this.nextSeq(),
    };
    record.plugins.set(stored.id, stored);
    this.proxyView.plugin(workspace, stored.id, stored);
    return stored;
  }

  deletePlugin(workspace: string, id: string): void {
    if (this.requireWs(workspace).plugins.delete(id)) this.proxyView.plugin(workspace, id, undefined);
  }

  /** Plugins scoped to this consumer, in creation order (the Admin API's view: every change at once). */
  consumerPlugins(workspace: string, consumerId: string): StoredPlugin[] {
    return [...this.requireWs(workspace).plugins.values()].filter((p) => p.consumer?.id === consumerId);
  }

  // ---- sessions ----------------------------------------------------------------------------

  createSession(workspace: string, developerId: string): PortalSession {
    const session: PortalSession = { id: randomBytes(24).toString('base64url'), workspace, developerId, expiresAt: Date.now() + SESSION_TTL_MS };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The developer behind a live session of this workspace, or undefined. */
  sessionDeveloper(workspace: string, sessionId: string | undefined): StoredDeveloper | undefined {
    if (!sessionId) return undefined;
    const session = this.sessions.get(sessionId);
    if (!session || session.workspace !== workspace) return undefined;
    if (session.expiresAt < Date.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return this.requireWs(workspace).developers.get(session.developerId);
  }

  // ---- async work --------------------------------------------------------------------------

  /** Tracks fire-and-forget work so tests can wait for it with settle(). */
  track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Resolves once every webhook and Moesif post started so far has finished. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
