/**
 * What the Moesif emulator offers: its knobs (with their defaults), its options and its interface.
 * A module of its own so the emulator and its /_emulator routes both read it without importing
 * each other.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { randomFaultKnobFields } from '../faults/emulator-control.ts';
import type { FaultInjector } from '../faults/fault-injector.ts';
import type { RequestCounters } from '../faults/request-counters.ts';
import type { FetchHandler } from '../running-service.ts';
import { MOESIF_FAULT_KINDS, type MoesifFaultKind } from './moesif-fault-kinds.ts';
import type { MoesifStore } from './moesif-store.ts';
import type { FlushResult, UsageBilling, UsageBillingSettings } from './usage-billing.ts';

export const DEFAULT_MOESIF_APPLICATION_ID = 'sandbox-moesif-app-id';
export const DEFAULT_MOESIF_MANAGEMENT_TOKEN = 'sandbox-moesif-management-token';

export const knobsSchema = z
  .object({
    latencyMs: z.number().min(0).max(600_000),
    /** false = up; '503' answers Service Unavailable; 'drop' closes connections. */
    down: z.union([z.literal(false), z.literal('503'), z.literal('drop')]),
    /** Accepted application ids; null accepts any non-empty id. */
    applicationIds: z.array(z.string().min(1)).nullable(),
    ...randomFaultKnobFields(MOESIF_FAULT_KINDS),
    hangMs: z.number().min(0).max(600_000),
    /** Management API bearer tokens accepted (scope read:events); null accepts any non-empty token. */
    managementTokens: z.array(z.string().min(1)).nullable(),
    /** Milliseconds after Moesif receives an event before the Management API can find it. */
    ingestionLagMs: z.number().min(0).max(3_600_000),
  })
  .strict();

export type MoesifEmulatorKnobs = z.infer<typeof knobsSchema>;

export const DEFAULT_MOESIF_KNOBS: MoesifEmulatorKnobs = {
  latencyMs: 0,
  down: false,
  applicationIds: [DEFAULT_MOESIF_APPLICATION_ID],
  faultRate: 0,
  faultSeed: 1,
  faultKinds: ['500', 'drop'],
  faultWhen: 'before',
  hangMs: 60_000,
  managementTokens: [DEFAULT_MOESIF_MANAGEMENT_TOKEN],
  // Moesif does not document its ingestion delay; tests and the sandbox set it where it matters.
  ingestionLagMs: 0,
};

export interface MoesifEmulatorOptions extends Partial<MoesifEmulatorKnobs> {
  now?: () => number;
  /** Report usage to Stripe (Moesif's Stripe integration); can also be set later with configureBilling. */
  billing?: BillingOptions;
}

export interface BillingOptions extends UsageBillingSettings {
  /** Flush on a timer every this many ms (0 or unset: only on flushUsage() / POST /_emulator/flush). */
  flushIntervalMs?: number;
}

export interface MoesifEmulator {
  app: Hono;
  fetch: FetchHandler;
  store: MoesifStore;
  faults: FaultInjector<MoesifFaultKind>;
  counters: RequestCounters;
  knobs(): MoesifEmulatorKnobs;
  configure(knobs: Partial<MoesifEmulatorKnobs>): void;
  /** Empties users, companies, events, counters, fault rules and billing state; knobs go back to the creation options. */
  reset(): void;
  /** Turns usage reporting to Stripe on (or off with undefined), replacing any earlier setting. */
  configureBilling(options: BillingOptions | undefined): void;
  /** The usage reporter, when billing is configured. */
  billing(): UsageBilling | undefined;
  /** Reports the calls not yet reported: one Stripe meter event per company. */
  flushUsage(): Promise<FlushResult>;
  close(): void;
}
