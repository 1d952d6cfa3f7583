import { describe, expect, it } from 'vitest';
import { asSentence } from './page-kit.ts';

describe('asSentence (messages on hosted pages)', () => {
  it('starts with a capital and ends with a full stop, keeping what is already right', () => {
    expect(asSentence('developer a@b.c is pending approval')).toBe('Developer a@b.c is pending approval.');
    expect(asSentence('This link has expired. Ask for a new one.')).toBe('This link has expired. Ask for a new one.');
    expect(asSentence('Log in instead?')).toBe('Log in instead?');
  });
});
