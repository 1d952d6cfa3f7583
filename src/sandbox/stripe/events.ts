/**
 * The account's event log: every state change the emulator makes (a subscription updated by a
 * clock, an invoice paid, a Checkout completed) is recorded here as a Stripe Event, in the
 * order it happened. `GET /v1/events` lists the log and webhook delivery subscribes to it.
 */
import { randomInt } from 'node:crypto';

/** The API version the emulator speaks (stripe-node 23's pinned version). */
export const EMULATOR_API_VERSION = '2026-10-28.endive';

/** A Stripe Event as it travels on the wire. */
export interface WireEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: object; previous_attributes?: object };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** What caused an event: an API request (with its id and key), or nothing (a clock, a retry). */
interface EventCause {
  requestId?: string;
  idempotencyKey?: string | null;
}

type EventListener = (event: WireEvent) => void;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function eventId(): string {
  let tail = '';
  for (let i = 0; i < 24; i += 1) tail += BASE62[randomInt(BASE62.length)];
  return `evt_1${tail}`;
}

export class EventLog {
  readonly #events: WireEvent[] = [];
  readonly #listeners = new Set<EventListener>();
  /** The API request being handled, if any: events it causes carry its id and idempotency key. */
  #ambient: EventCause = {};

  constructor(private readonly now: () => number) {}

  /**
   * Records an event with a snapshot of `object` (callers pass the API view, e.g. a rendered
   * subscription) and tells every listener. `previousAttributes` holds the old values of the
   * fields that changed, as Stripe sends them on `*.updated` events.
   */
  emit(type: string, object: object, previousAttributes?: object, cause: EventCause = this.#ambient): WireEvent {
    const event: WireEvent = {
      id: eventId(),
      object: 'event',
      api_version: EMULATOR_API_VERSION,
      created: this.now(),
      data: { object: structuredClone(object), ...(previousAttributes ? { previous_attributes: structuredClone(previousAttributes) } : {}) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: cause.requestId ?? null, idempotency_key: cause.idempotencyKey ?? null },
      type,
    };
    this.#events.push(event);
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  /** Runs `change` (synchronous) with `cause` as the default cause of the events it emits. */
  causedBy<T>(cause: EventCause, change: () => T): T {
    const outer = this.#ambient;
    this.#ambient = cause;
    try {
      return change();
    } finally {
      this.#ambient = outer;
    }
  }

  /** Newest first, the order Stripe lists in. */
  newestFirst(): WireEvent[] {
    return [...this.#events].reverse();
  }

  get(id: string): WireEvent | undefined {
    return this.#events.find((event) => event.id === id);
  }

  /** Subscribes to new events; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#events.length = 0;
  }
}
