/**
 * What the gateway's proxy sees, as opposed to what the Admin API answers. Kong writes an entity
 * to its database at once, but other nodes (and, with `worker_consistency = eventual`, the
 * workers of the node itself, for the plugins iterator) apply it only at their next poll:
 * `db_update_frequency` and `worker_state_update_frequency`, both 5 s by default in Kong 3.4
 * (kong.conf.default); Konnect data planes later still. The emulator models that as one delay:
 * every plugin and key-auth change reaches the proxy `delayMs` after the Admin API answered, in
 * the order it was made. A delay of 0 applies changes at once (tests that test other things).
 *
 * Stricter than one Kong node, on purpose: the node that took the write invalidates its own
 * credential cache at once, but a cluster behind a load balancer does not, and the product
 * cannot know which node a call reaches.
 */
import type { KeyAuthCredential, StoredPlugin } from './kong-records.ts';

/** Kong 3.4's `db_update_frequency` default (seconds → ms): the default propagation delay. */
export const KONG_DB_UPDATE_FREQUENCY_MS = 5_000;

type Change =
  | { kind: 'plugin'; workspace: string; id: string; value: StoredPlugin | undefined }
  | { kind: 'key'; workspace: string; key: string; value: KeyAuthCredential | undefined };

interface Pending {
  dueAt: number;
  change: Change;
}

export class ProxyView {
  private readonly plugins = new Map<string, Map<string, StoredPlugin>>();
  private readonly keys = new Map<string, Map<string, KeyAuthCredential>>();
  private readonly queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private delay: number = KONG_DB_UPDATE_FREQUENCY_MS) {
    if (!Number.isFinite(delay) || delay < 0) throw new RangeError(`Kong emulator: propagation delay must be a number of milliseconds ≥ 0, got ${delay}`);
  }

  get delayMs(): number {
    return this.delay;
  }

  /** Changes made but not yet seen by the proxy. */
  get pendingChanges(): number {
    return this.queue.length;
  }

  /** Changes the delay for changes made from now on (those already queued keep their time). */
  setDelay(delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`Kong emulator: propagation delay must be a number of milliseconds ≥ 0, got ${delayMs}`);
    this.delay = delayMs;
  }

  plugin(workspace: string, id: string, value: StoredPlugin | undefined): void {
    this.record({ kind: 'plugin', workspace, id, value: value && structuredClone(value) });
  }

  key(workspace: string, key: string, value: KeyAuthCredential | undefined): void {
    this.record({ kind: 'key', workspace, key, value: value && structuredClone(value) });
  }

  /** The credential of this key as the proxy sees it. */
  credential(workspace: string, key: string): KeyAuthCredential | undefined {
    return this.keys.get(workspace)?.get(key);
  }

  /** Every plugin of the workspace as the proxy sees it (in the order they first reached it). */
  pluginsOf(workspace: string): Iterable<StoredPlugin> {
    return this.plugins.get(workspace)?.values() ?? [];
  }

  /** Applies every queued change now: for tests that assert the state after propagation without waiting. */
  flush(): void {
    this.applyDue(Number.POSITIVE_INFINITY);
  }

  /** Stops the timer; queued changes are dropped (the emulator is closing). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private record(change: Change): void {
    if (this.delay === 0 && this.queue.length === 0) return this.apply(change);
    this.queue.push({ dueAt: Date.now() + this.delay, change });
    this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (this.timer || !head) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.applyDue(Date.now());
        this.schedule();
      },
      Math.max(0, head.dueAt - Date.now()),
    );
    // A pending change must not keep a finished test process alive; the servers keep a running one.
    this.timer.unref();
  }

  private applyDue(now: number): void {
    while (this.queue.length > 0 && (this.queue[0] as Pending).dueAt <= now) this.apply((this.queue.shift() as Pending).change);
  }

  private apply(change: Change): void {
    const table = change.kind === 'plugin' ? this.plugins : this.keys;
    const name = change.kind === 'plugin' ? change.id : change.key;
    let entries = table.get(change.workspace) as Map<string, StoredPlugin | KeyAuthCredential> | undefined;
    if (!entries) {
      entries = new Map();
      table.set(change.workspace, entries as Map<string, never>);
    }
    if (change.value === undefined) entries.delete(name);
    else entries.set(name, change.value);
  }
}
