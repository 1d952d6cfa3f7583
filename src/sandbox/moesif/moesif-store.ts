/**
 * What the Moesif emulator has collected: users, companies and events. Users and companies are
 * created or updated by the same call and merge recursively (objects merged key by key, scalars
 * and arrays replaced), as Moesif's Collector API does.
 */
type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface MoesifUser extends JsonObject {
  user_id: string;
}
export interface MoesifCompany extends JsonObject {
  company_id: string;
}
export interface MoesifEvent {
  /** Sequence number given by the emulator. */
  seq: number;
  received_at: string;
  user_id: string | null;
  company_id: string | null;
  request: JsonObject;
  response: JsonObject | null;
  /** Everything the event carried (metadata, direction, session_token...). */
  raw: JsonObject;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Recursive merge: nested objects merge, everything else (scalars, arrays, null) replaces. */
export function deepMerge(base: JsonObject, update: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(update)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : structuredClone(value);
  }
  return merged;
}

export class MoesifStore {
  readonly users = new Map<string, MoesifUser>();
  readonly companies = new Map<string, MoesifCompany>();
  readonly events: MoesifEvent[] = [];
  #seq = 0;

  /** Creates or merges a user; true when it was created. */
  upsertUser(user: MoesifUser): boolean {
    const existing = this.users.get(user.user_id);
    this.users.set(user.user_id, (existing ? deepMerge(existing, user) : structuredClone(user)) as MoesifUser);
    return !existing;
  }

  upsertCompany(company: MoesifCompany): boolean {
    const existing = this.companies.get(company.company_id);
    this.companies.set(company.company_id, (existing ? deepMerge(existing, company) : structuredClone(company)) as MoesifCompany);
    return !existing;
  }

  addEvent(event: JsonObject & { request: JsonObject }, receivedAt: Date): MoesifEvent {
    const stored: MoesifEvent = {
      seq: ++this.#seq,
      received_at: receivedAt.toISOString(),
      user_id: typeof event.user_id === 'string' ? event.user_id : null,
      company_id: typeof event.company_id === 'string' ? event.company_id : null,
      request: structuredClone(event.request),
      response: isObject(event.response) ? structuredClone(event.response) : null,
      raw: structuredClone(event),
    };
    this.events.push(stored);
    return stored;
  }

  /** A call's company: the event's own company_id, else the company_id its user was given through the Collector API. */
  companyOf(event: MoesifEvent): string | undefined {
    if (event.company_id) return event.company_id;
    const user = event.user_id ? this.users.get(event.user_id) : undefined;
    return typeof user?.company_id === 'string' && user.company_id !== '' ? user.company_id : undefined;
  }

  clear(): void {
    this.users.clear();
    this.companies.clear();
    this.events.length = 0;
    this.#seq = 0;
  }
}
