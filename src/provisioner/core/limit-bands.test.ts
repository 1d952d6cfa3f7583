import { describe, expect, it } from 'vitest';
import { limitBandKey, limitDefinitions } from './limit-bands.ts';

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
