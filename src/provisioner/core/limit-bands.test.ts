import { describe, expect, it } from 'vitest';
import { LEAK_CHECK_AFTER_MS, limitBandKey, limitDefinitions, needsDecision } from './limit-bands.ts';

const usage = (calls: number, amountSoFar = 0, periodEnd = 1_900_000_000) => ({ calls, amountSoFar, currency: 'usd', periodEnd });
const quota = limitDefinitions({ limits: { quota: { calls: 100, enforcement: 'hard' } } }, undefined);

describe('limit bands', () => {
  it('the same side of the 80 % and 100 % lines in the same period is the same key', () => {
    expect(limitBandKey(quota, usage(10))).toBe(limitBandKey(quota, usage(79)));
    expect(limitBandKey(quota, usage(79))).not.toBe(limitBandKey(quota, usage(80)));
    expect(limitBandKey(quota, usage(99))).not.toBe(limitBandKey(quota, usage(100)));
    expect(limitBandKey(quota, usage(100))).toBe(limitBandKey(quota, usage(5000)));
    expect(limitBandKey(quota, usage(10))).not.toBe(limitBandKey(quota, usage(10, 0, 1_900_000_001)));
  });

  it('another limit (a plan change, a new cap) is another key for the same figures', () => {
    const bigger = limitDefinitions({ limits: { quota: { calls: 1000, enforcement: 'hard' } } }, undefined);
    const soft = limitDefinitions({ limits: { quota: { calls: 100, enforcement: 'soft' } } }, undefined);
    expect(limitBandKey(quota, usage(150))).not.toBe(limitBandKey(bigger, usage(150)));
    expect(limitBandKey(quota, usage(150))).not.toBe(limitBandKey(soft, usage(150)));
    const capped = limitDefinitions(undefined, { metadata: { kpm_spend_cap: '5000' } });
    const raised = limitDefinitions(undefined, { metadata: { kpm_spend_cap: '7500' } });
    expect(capped).toEqual({ spendCap: 5000 });
    expect(limitBandKey(capped, usage(0, 4000))).not.toBe(limitBandKey(capped, usage(0, 5000)));
    expect(limitBandKey(capped, usage(0, 5000))).not.toBe(limitBandKey(raised, usage(0, 5000)));
    expect(limitBandKey(capped, usage(0, 100))).toBe(limitBandKey(capped, usage(0, 3999)));
  });
});

describe('needsDecision', () => {
  const at = 1_000_000;
  const mark = (calls: number, limitRefused: boolean) => ({ bands: limitBandKey(quota, usage(calls)), calls, limitRefused, at });
  it('nothing decided yet, or no limits known (the last sync failed): decide', () => {
    expect(needsDecision(undefined, quota, usage(1), at)).toBe(true);
    expect(needsDecision(mark(1, false), undefined, usage(1), at)).toBe(true);
  });
  it('same bands: no decision, unless calls still rise long after a limit refused them', () => {
    expect(needsDecision(mark(10, false), quota, usage(50), at + 3_600_000)).toBe(false);
    expect(needsDecision(mark(100, true), quota, usage(140), at + LEAK_CHECK_AFTER_MS - 1)).toBe(false);
    expect(needsDecision(mark(100, true), quota, usage(100), at + LEAK_CHECK_AFTER_MS)).toBe(false);
    expect(needsDecision(mark(100, true), quota, usage(101), at + LEAK_CHECK_AFTER_MS)).toBe(true);
    expect(needsDecision(mark(10, false), quota, usage(80), at)).toBe(true);
  });
});
