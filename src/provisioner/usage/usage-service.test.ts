// The provisioner's usage timer (issue 23: the reporter runs inside the provisioner): one run per
// interval, the first one interval after start; a failed run is logged and the next one tries again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startUsageTimer, type UsageRun, type UsageService } from './usage-service.ts';

afterEach(() => vi.useRealTimers());

const sentRun: UsageRun = {
  windows: [{ window: { start: 0, end: 3600 }, companies: [{ companyId: 'sub_1', calls: 3, outcome: 'sent' }] }],
  trueUps: [],
};

describe('usage timer', () => {
  it('runs every interval; a failed run is logged and the next one tries again', async () => {
    vi.useFakeTimers();
    const outcomes: Array<() => Promise<UsageRun>> = [() => Promise.reject(new Error('Moesif answered 503')), () => Promise.resolve(sentRun)];
    const run = vi.fn(() => (outcomes.shift() ?? (() => Promise.resolve({ windows: [], trueUps: [] })))());
    const logged: Array<Record<string, unknown>> = [];
    const timer = startUsageTimer({ run } as unknown as UsageService, 30, (entry) => logged.push(entry));
    try {
      await vi.advanceTimersByTimeAsync(29_000);
      expect(run).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(logged).toEqual([{ event: 'usage_report_failed', message: 'Moesif answered 503' }]);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(logged[1]).toEqual({ event: 'usage_reported', windows: 1, sent: 1, failed: 0, true_ups: [] });
      // A run with nothing to say logs nothing.
      await vi.advanceTimersByTimeAsync(30_000);
      expect(run).toHaveBeenCalledTimes(3);
      expect(logged).toHaveLength(2);
    } finally {
      timer.stop();
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(3);
  });
});
