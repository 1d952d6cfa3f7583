/** The control plumbing the Stripe and Moesif emulators share (their routes are covered by each emulator's tests). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EmulatorKnobs, faultRuleFromJson, HeldRequests } from './emulator-control.ts';
import { FaultInjector } from './fault-injector.ts';

type Kind = '500' | 'drop';
const knobsSchema = z
  .object({
    latencyMs: z.number().min(0),
    faultRate: z.number().min(0).max(1),
    faultSeed: z.number().int(),
    faultKinds: z.array(z.enum(['500', 'drop'])).min(1),
    faultWhen: z.enum(['before', 'after', 'mixed']),
  })
  .strict();
type Knobs = z.infer<typeof knobsSchema>;
const initial: Knobs = { latencyMs: 0, faultRate: 0.5, faultSeed: 3, faultKinds: ['500'], faultWhen: 'before' };

/** Which of the next `n` requests get a random fault. */
function faultPattern(faults: FaultInjector<Kind>, n = 12): boolean[] {
  return Array.from({ length: n }, (_, i) => faults.decide({ method: 'POST', path: `/x/${i}`, route: '/x/:id', params: {} }) !== undefined);
}

describe('EmulatorKnobs', () => {
  it('restarts the seeded fault sequence only when a fault knob changes', () => {
    const faults = new FaultInjector<Kind>(['500', 'drop']);
    const knobs = new EmulatorKnobs(knobsSchema, initial, faults);
    const first = faultPattern(faults);
    expect(first).toContain(true);
    expect(first).toContain(false);

    knobs.configure({ faultSeed: 3 });
    knobs.configure({ latencyMs: 10 });
    expect(faultPattern(faults)).not.toEqual(first); // same seed, not restarted: the sequence goes on

    knobs.configure({ faultKinds: ['drop'] });
    expect(faultPattern(faults)).toEqual(first); // restarted from seed 3
    expect(faults.random).toMatchObject({ rate: 0.5, seed: 3, kinds: ['drop'] });
  });

  it('validates the merged knobs before changing anything, and resets to the creation options', () => {
    const applied: Array<[Knobs, Knobs | undefined]> = [];
    const knobs = new EmulatorKnobs(knobsSchema, initial, new FaultInjector<Kind>(['500', 'drop']), (next, previous) => applied.push([next, previous]));
    expect(applied).toEqual([[initial, undefined]]);

    expect(() => knobs.configure({ latencyMs: -1 })).toThrow(z.ZodError);
    expect(knobs.current).toEqual(initial);
    expect(applied).toHaveLength(1);

    knobs.configure({ latencyMs: 25 });
    expect(applied[1]).toEqual([{ ...initial, latencyMs: 25 }, initial]);
    const copy = knobs.snapshot();
    copy.latencyMs = 99;
    expect(knobs.current.latencyMs).toBe(25);

    knobs.reset();
    expect(knobs.current).toEqual(initial);
    expect(applied[2]).toEqual([initial, undefined]);
  });
});

describe('HeldRequests', () => {
  it('aborts the signal held requests wait on, then holds again', () => {
    const held = new HeldRequests();
    const before = held.signal;
    held.releaseAll();
    expect(before.aborted).toBe(true);
    expect(held.signal.aborted).toBe(false);
  });
});

describe('faultRuleFromJson', () => {
  it('turns pathPattern into a RegExp that wins over path, and keeps the other fields', () => {
    const rule = faultRuleFromJson<Kind>({ kind: 'drop', path: '/v1/a', pathPattern: '^/v1/cus', method: 'POST', when: 'after', times: 2, skip: 1 });
    expect(rule).toEqual({ kind: 'drop', path: /^\/v1\/cus/, method: 'POST', when: 'after', times: 2, skip: 1 });
    expect(faultRuleFromJson<Kind>({ kind: '500', path: '/v1/a' })).toEqual({ kind: '500', path: '/v1/a' });
  });
});
