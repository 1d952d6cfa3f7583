import { describe, expect, it } from 'vitest';
import { plural } from './plural.ts';

describe('plural', () => {
  it('one is singular; zero and many are plural', () => {
    expect(plural(1, 'developer')).toBe('1 developer');
    expect(plural(0, 'developer')).toBe('0 developers');
    expect(plural(2, 'check')).toBe('2 checks');
    expect(plural(3, 'developer has', 'developers have')).toBe('3 developers have');
  });
});
