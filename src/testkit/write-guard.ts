/**
 * A fingerprint of everything the product could write: Kong workspace files (by checksum),
 * developers, workspace config and event hooks; Stripe and Moesif write counters and objects; the
 * built theme/ folder and the local backups folder. Two equal fingerprints mean no write anywhere.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningKongEmulator } from '../sandbox/kong/index.ts';
import type { RunningMoesifEmulator } from '../sandbox/moesif/moesif-emulator.ts';
import type { RunningStripeEmulator } from '../sandbox/stripe/stripe-emulator.ts';

export interface WriteFingerprint {
  kongFiles: Record<string, string>;
  kongDevelopers: number;
  kongWorkspaceConfig: string;
  kongEventHooks: number;
  stripeWrites: number;
  stripeObjects: Record<string, number>;
  /** Moesif by content: the readiness check POSTs an empty batch, a request that stores nothing. */
  moesifStore: string;
  localFiles: Record<string, string>;
}

function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[full] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(root);
  return out;
}

export function fingerprint(
  services: { kong: RunningKongEmulator; stripe: RunningStripeEmulator; moesif: RunningMoesifEmulator },
  localDirs: readonly string[],
): WriteFingerprint {
  const ws = services.kong.state.requireWs('default');
  const snapshot = services.stripe.snapshot();
  return {
    kongFiles: Object.fromEntries([...ws.files.values()].map((file) => [file.path, file.checksum])),
    kongDevelopers: ws.developers.size,
    kongWorkspaceConfig: JSON.stringify(ws.workspace.config),
    kongEventHooks: services.kong.state.eventHooks.size,
    stripeWrites: services.stripe.counters.writes,
    stripeObjects: Object.fromEntries(Object.entries(snapshot).map(([kind, list]) => [kind, (list as unknown[]).length])),
    moesifStore: createHash('sha256')
      .update(JSON.stringify([[...services.moesif.store.users], [...services.moesif.store.companies], services.moesif.counters.snapshot().requests['POST /v1/events'] ?? 0]))
      .digest('hex'),
    localFiles: Object.assign({}, ...localDirs.map(hashTree)) as Record<string, string>,
  };
}
