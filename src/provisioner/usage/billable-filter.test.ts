// BILLABLE_STATUS: statuses and ranges, with our own refusals (401, 402, 429) and upstream 5xx
// always cut out; a setting that leaves nothing billable is refused, naming it.
import { describe, expect, it } from 'vitest';
import { isBillable, parseBillableStatus } from './billable-filter.ts';
import { parseLagMinutes, parseWindowMinutes, windowsOfPeriod } from './usage-windows.ts';

describe('billable statuses', () => {
  it('defaults to 100-399', () => {
    const ranges = parseBillableStatus(undefined);
    expect([200, 201, 304, 399].every((s) => isBillable(s, ranges))).toBe(true);
    expect([400, 401, 402, 404, 429, 500, 503].some((s) => isBillable(s, ranges))).toBe(false);
  });

  it('never bills 401, 402, 429 or 5xx even when asked to', () => {
    const ranges = parseBillableStatus('100-599');
    expect([401, 402, 429, 500, 599].some((s) => isBillable(s, ranges))).toBe(false);
    expect([400, 403, 404, 422].every((s) => isBillable(s, ranges))).toBe(true);
  });

  it('refuses malformed values and one that leaves nothing billable', () => {
    expect(() => parseBillableStatus('2xx')).toThrow(/BILLABLE_STATUS: "2xx" is not a status or a range/);
    expect(() => parseBillableStatus('399-200')).toThrow(/BILLABLE_STATUS/);
    expect(() => parseBillableStatus('402,429')).toThrow(/leaves no billable status/);
  });
});

describe('windows', () => {
  it('accepts whole hours that divide a day, lags up to 40 minutes', () => {
    expect(parseWindowMinutes(undefined)).toBe(60);
    expect(parseWindowMinutes('120')).toBe(120);
    expect(() => parseWindowMinutes('90')).toThrow(/USAGE_WINDOW_MINUTES/);
    expect(parseLagMinutes(undefined)).toBe(10);
    expect(() => parseLagMinutes('45')).toThrow(/USAGE_INGESTION_LAG_MINUTES/);
  });

  it('gives a period the windows whose last second lies in it: a straddling window goes to the next period', () => {
    const start = Date.UTC(2026, 0, 10, 12, 30) / 1000;
    const end = Date.UTC(2026, 0, 10, 15, 30) / 1000;
    expect(windowsOfPeriod({ start, end }, 3600).map((w) => new Date(w.start * 1000).toISOString().slice(11, 16))).toEqual(['12:00', '13:00', '14:00']);
  });
});
