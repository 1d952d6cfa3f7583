/**
 * Reporting windows: fixed, UTC-aligned slices of time (hourly by default). A window's calls are
 * reported once Moesif's ingestion lag has passed after its end, as one meter event per customer
 * timestamped at the window's last second, so a window belongs to the billing period holding its
 * end: a window that straddles a period end is billed in the new period, never after the old
 * invoice is finalized.
 */
import { SettingError } from '../../shared/errors.ts';

export interface UsageWindow {
  /** Unix seconds, inclusive. */
  start: number;
  /** Unix seconds, exclusive. */
  end: number;
}

const DEFAULT_WINDOW_MINUTES = 60;
const DEFAULT_INGESTION_LAG_MINUTES = 10;

/** Window lengths whose ends fall on whole hours and divide a day (summaries group by hour). */
export function parseWindowMinutes(value: string | undefined, setting = 'USAGE_WINDOW_MINUTES'): number {
  if (value === undefined || value.trim() === '') return DEFAULT_WINDOW_MINUTES;
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 60 || minutes % 60 !== 0 || 1440 % minutes !== 0)
    throw new SettingError(setting, `"${value}" is not a window length`, 'use 60 (default), 120, 180, 240, 360, 480, 720 or 1440 minutes: whole hours that divide a day');
  return minutes;
}

export function parseLagMinutes(value: string | undefined, setting = 'USAGE_INGESTION_LAG_MINUTES'): number {
  if (value === undefined || value.trim() === '') return DEFAULT_INGESTION_LAG_MINUTES;
  const minutes = Number(value);
  // Over 40 minutes the last window of a period could not be reported before Stripe finalizes (an hour).
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 40) throw new SettingError(setting, `"${value}" is not a lag in minutes`, 'use a whole number from 0 to 40 (default 10)');
  return minutes;
}

export function windowAt(time: number, windowSeconds: number): UsageWindow {
  const start = Math.floor(time / windowSeconds) * windowSeconds;
  return { start, end: start + windowSeconds };
}

/** Windows whose end lies in (from, to], oldest first. */
export function windowsEndingIn(from: number, to: number, windowSeconds: number): UsageWindow[] {
  const windows: UsageWindow[] = [];
  for (let end = Math.floor(from / windowSeconds) * windowSeconds + windowSeconds; end <= to; end += windowSeconds) windows.push({ start: end - windowSeconds, end });
  return windows;
}

/** The windows that belong to a billing period [start, end): those whose last second is in it. */
export function windowsOfPeriod(period: UsageWindow, windowSeconds: number): UsageWindow[] {
  return windowsEndingIn(period.start, period.end, windowSeconds);
}

/** The meter event timestamp of a window: its last second. */
export function windowTimestamp(window: UsageWindow): number {
  return window.end - 1;
}

export const isoTime = (seconds: number): string => new Date(seconds * 1000).toISOString();
