import { describe, expect, it } from 'vitest';
import { progressLine } from './reconcile-command.ts';

describe('counts people read', () => {
  it('reconcile progress: "1 developer seen"', () => {
    expect(progressLine({ seen: 1, alreadyWhole: 1, fixed: 0, failed: 0, skipped: 0 })).toBe('reconcile: 1 developer seen: 1 whole, 0 fixed, 0 failed, 0 skipped');
    expect(progressLine({ seen: 2, alreadyWhole: 2, fixed: 0, failed: 0, skipped: 0 })).toMatch(/^reconcile: 2 developers seen/);
  });
});
