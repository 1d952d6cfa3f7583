/**
 * Developers this process made whole recently, so a repeated interactive call (the page's retry,
 * the event hook right after the page) writes nothing and reads nothing.
 */
import { BoundedMap } from '../../shared/bounded-map.ts';

export interface WholeIds {
  customerId: string;
  subscriptionId: string;
  planId: string;
  /** The email the customer was made whole with: another email (a change) is not answered from memory. */
  email?: string;
}

export function createWholeMemory(options: { ttlMs: number; maxEntries: number; now: () => number }) {
  const memory = new BoundedMap<string, WholeIds>(options);
  return {
    get: (developerId: string) => memory.get(developerId),
    remember: (developerId: string, ids: WholeIds) => void memory.set(developerId, ids),
    forget: (developerId: string) => void memory.delete(developerId),
  };
}
