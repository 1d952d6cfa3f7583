// The page's alert line (billing status usage_alert, the account page): from this process's own
// figures when it has them, else from the alert marks left on the Stripe customer for this period.
import { describe, expect, it } from 'vitest';
import { usageAlertLine } from './usage-alerts.ts';

const END = 1_800_000_000;
const customer = (metadata: Record<string, string>) => ({ metadata });
const QUOTA_PLAN = { limits: { quota: { calls: 100, enforcement: 'soft' as const } } };

describe('usageAlertLine', () => {
  it('reads the marks of this period only: spend cap first on a tie, the higher threshold otherwise', () => {
    expect(usageAlertLine(customer({ kpm_spend_cap: '5000', kpm_alert_spend_cap: `${END}:80` }), END, undefined)).toBe('80 % of your monthly spend cap used');
    expect(usageAlertLine(customer({ kpm_spend_cap: '5000', kpm_alert_spend_cap: `${END - 1}:80` }), END, undefined)).toBeUndefined();
    expect(usageAlertLine(customer({ kpm_spend_cap: '5000', kpm_alert_spend_cap: `${END}:80`, kpm_alert_quota: `${END}:100` }), END, QUOTA_PLAN)).toBe("100 % of your plan's quota used");
    expect(usageAlertLine(customer({ kpm_spend_cap: '5000', kpm_alert_spend_cap: `${END}:80`, kpm_alert_quota: `${END}:80` }), END, QUOTA_PLAN)).toBe('80 % of your monthly spend cap used');
  });

  it('drops a mark that no longer applies: cap removed, plan without a quota, a raised cap per Stripe\'s amount', () => {
    expect(usageAlertLine(customer({ kpm_alert_spend_cap: `${END}:80` }), END, undefined)).toBeUndefined();
    expect(usageAlertLine(customer({ kpm_alert_quota: `${END}:80` }), END, { limits: {} })).toBeUndefined();
    expect(usageAlertLine(customer({ kpm_spend_cap: '10000', kpm_alert_spend_cap: `${END}:80` }), END, undefined, {}, 4000)).toBeUndefined();
  });

  it('uses this process\'s own figures when it has them, marks or not (no alert channel configured)', () => {
    expect(usageAlertLine(customer({ kpm_spend_cap: '5000' }), END, undefined, { spendCap: { cap: 5000, spent: 4000 } })).toBe('80 % of your monthly spend cap used');
    expect(usageAlertLine(customer({}), END, QUOTA_PLAN, { quota: { limit: 5, used: 5 } })).toBe("100 % of your plan's quota used");
    expect(usageAlertLine(customer({ kpm_spend_cap: '5000', kpm_alert_spend_cap: `${END}:80` }), END, undefined, { spendCap: { cap: 5000, spent: 100 } })).toBeUndefined();
  });
});
