import { describe, expect, it } from 'vitest';
import { progressLine } from '../admin/reconcile/reconcile-command.ts';
import { plural } from './plural.ts';

describe('plural', () => {
  it('one is singular; zero and many are plural', () => {
    expect(plural(1, 'developer')).toBe('1 developer');
    expect(plural(0, 'developer')).toBe('0 developers');
    expect(plural(2, 'check')).toBe('2 checks');
    expect(plural(3, 'developer has', 'developers have')).toBe('3 developers have');
  });
});

describe('counts people read', () => {
  it('reconcile progress: "1 developer seen"', () => {
    expect(progressLine({ seen: 1, alreadyWhole: 1, fixed: 0, failed: 0, skipped: 0 })).toBe('reconcile: 1 developer seen: 1 whole, 0 fixed, 0 failed, 0 skipped');
    expect(progressLine({ seen: 2, alreadyWhole: 2, fixed: 0, failed: 0, skipped: 0 })).toMatch(/^reconcile: 2 developers seen/);
  });
});
