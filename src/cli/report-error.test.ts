import { afterEach, describe, expect, it, vi } from 'vitest';
import { PlansFileError } from '../shared/plans.ts';
import { MonetizationError, SettingError } from '../shared/errors.ts';
import { BAD_INPUT_EXIT, CLI_EXIT_CODES, reportFatal } from './report-error.ts';

describe('reportFatal', () => {
  afterEach(() => vi.restoreAllMocks());

  function captureStderr(): string[] {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    return lines;
  }

  it('exits 2 for a bad setting and prints its code, message and fix', () => {
    const stderr = captureStderr();
    expect(reportFatal(new SettingError('PLANS_FILE', 'is not set', 'point it at your plans file'))).toBe(BAD_INPUT_EXIT);
    expect(stderr.join('\n')).toMatch(/\[invalid_setting\]: PLANS_FILE: is not set\n {2}fix: point it at your plans file/);
  });

  it('exits 2 for a bad plans file', () => {
    captureStderr();
    expect(reportFatal(new PlansFileError('plans.json', ['plans.0.id: required']))).toBe(2);
  });

  it('exits 1 for any other product error, and for a plain error, printing the message only', () => {
    const stderr = captureStderr();
    expect(reportFatal(new MonetizationError('kong_unreachable', 'cannot reach Kong'))).toBe(1);
    expect(reportFatal(new Error('boom'))).toBe(1);
    expect(stderr.join('\n')).toContain('[kong_unreachable]: cannot reach Kong');
    expect(stderr.join('\n')).toContain('boom');
    expect(stderr.join('\n')).not.toContain('at ');
  });

  it('lists every exit code it returns', () => {
    expect(CLI_EXIT_CODES.map((entry) => entry.code)).toEqual([0, 1, BAD_INPUT_EXIT]);
  });
});
