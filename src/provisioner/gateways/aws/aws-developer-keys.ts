/**
 * A developer on AWS is a group of API keys: every key of ours named with the developer's email and
 * carrying the same developer id (developerIdOf: the DEVELOPER_TAG, else the key's own id). Usually
 * one key; two while a replacement is under way (aws-key-rotation.ts). Lookups by developer id never
 * assume that a key with that id still exists: the first key is deleted by the first replacement.
 *
 * AWS lists keys by name only (no tag filter), so a developer id is resolved in this order:
 * GetApiKey(id) (a developer whose first key is alive, or a key id; a first key never replaced is
 * the whole developer: one call), then the email this process learnt for the id, then one walk over
 * every key of ours (which teaches the email of every developer seen, so a process walks once per
 * developer it has not met).
 */
import { DEVELOPER_TAG, developerIdOf, isOurs, olderKeyFirst, REPLACES_TAG, REPLACING_TAG, SHOWN_TAG, type AwsApiKeys, type AwsKey } from './aws-api-keys.ts';

export interface DeveloperKeys {
  /** The developer id: the first key's id (Stripe's kong_developer_id). */
  id: string;
  email: string;
  /** Every live key of ours of this developer, oldest first. */
  keys: AwsKey[];
}

/** A replacement whose replaced key still exists: the replacement is not finished. */
export function isPending(developer: DeveloperKeys, key: AwsKey): boolean {
  const replaces = key.tags[REPLACES_TAG];
  return !!replaces && developer.keys.some((other) => other.id === replaces);
}

/** Keys that are not an unfinished replacement, oldest first. */
export function settledKeys(developer: DeveloperKeys): AwsKey[] {
  return developer.keys.filter((key) => !isPending(developer, key));
}

/**
 * The key the developer holds: the newest settled key that was shown (a replacement becomes it once
 * the key it replaces is deleted), else the signup's key, not shown yet. Its id is the Moesif user
 * id the provisioning writes.
 */
export function currentKey(developer: DeveloperKeys): AwsKey {
  const settled = settledKeys(developer);
  return settled.filter((key) => !!key.tags[SHOWN_TAG]).at(-1) ?? settled[0] ?? (developer.keys[0] as AwsKey);
}

/** Keys the developer was given: shown and settled (an unfinished replacement is not issued yet). */
export function issuedKeys(developer: DeveloperKeys): AwsKey[] {
  return settledKeys(developer).filter((key) => !!key.tags[SHOWN_TAG]);
}

/** Replacements of `key` (unfinished ones, since `key` exists), oldest first. */
export function replacementsOf(developer: DeveloperKeys, key: AwsKey): AwsKey[] {
  return developer.keys.filter((other) => other.tags[REPLACES_TAG] === key.id);
}

/** Groups keys of ours by developer id; each group oldest first. */
export function groupByDeveloper(keys: AwsKey[]): DeveloperKeys[] {
  const groups = new Map<string, AwsKey[]>();
  for (const key of [...keys].filter(isOurs).sort(olderKeyFirst)) {
    const id = developerIdOf(key);
    groups.set(id, [...(groups.get(id) ?? []), key]);
  }
  return [...groups].map(([id, group]) => ({ id, email: (group[0] as AwsKey).name, keys: group }));
}

export class AwsDeveloperKeys {
  /** Developer id → email, learnt from every lookup (ids and emails never change for a developer). */
  private readonly emails = new Map<string, string>();

  constructor(private readonly keys: AwsApiKeys) {}

  /** The developer of an email, a developer id or a key id; undefined when none of ours. */
  async find(emailOrId: string): Promise<DeveloperKeys | undefined> {
    if (emailOrId.includes('@')) return this.byEmail(emailOrId);
    const key = await this.keys.get(emailOrId);
    if (key && isOurs(key) && !key.tags[DEVELOPER_TAG] && !key.tags[REPLACING_TAG]) {
      this.emails.set(key.id, key.name);
      return { id: key.id, email: key.name, keys: [key] };
    }
    if (key) return isOurs(key) ? this.withEmail(key.name, developerIdOf(key), key) : undefined;
    const email = this.emails.get(emailOrId);
    const known = email ? await this.withEmail(email, emailOrId) : undefined;
    return known ?? (await this.walkFor(emailOrId));
  }

  /** Every developer of ours (reconcile's walk). */
  async all(): Promise<DeveloperKeys[]> {
    const developers = groupByDeveloper(await this.keys.listOurs());
    for (const developer of developers) this.emails.set(developer.id, developer.email);
    return developers;
  }

  /** The email's developer: the one of its oldest key of ours (one developer per email at signup). */
  private async byEmail(email: string): Promise<DeveloperKeys | undefined> {
    const [first] = groupByDeveloper(await this.keys.byName(email));
    if (first) this.emails.set(first.id, first.email);
    return first;
  }

  /** The developer `id`'s keys among those named `email`; `seen` counts even if the listing lags behind it. */
  private async withEmail(email: string, id: string, seen?: AwsKey): Promise<DeveloperKeys | undefined> {
    const named = (await this.keys.byName(email)).filter((key) => isOurs(key) && developerIdOf(key) === id);
    const keys = seen && !named.some((key) => key.id === seen.id) ? [...named, seen].sort(olderKeyFirst) : named;
    if (keys.length === 0) return undefined;
    this.emails.set(id, email);
    return { id, email, keys };
  }

  private async walkFor(id: string): Promise<DeveloperKeys | undefined> {
    return (await this.all()).find((developer) => developer.id === id);
  }
}
