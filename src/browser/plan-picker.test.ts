// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { PublicPlan } from '../shared/provisioner-api.ts';
import { renderPlanPicker } from './plan-picker.ts';

// happy-dom has no Option constructor; browsers do.
if (typeof globalThis.Option !== 'function')
  Object.assign(globalThis, {
    Option: function (text: string, value: string, _defaultSelected: boolean, selected: boolean) {
      const option = document.createElement('option');
      Object.assign(option, { text, value, selected });
      return option;
    },
  });

const plans: PublicPlan[] = [
  { id: 'free', name: 'Free', description: 'Try it.', priceSummary: '$0.00 per call', limitsSummary: '2 calls/second · 1,000 calls per billing period (then refused until it resets)', default: true },
  { id: 'paid', name: 'Paid', description: 'Pay as you go.', priceSummary: '$0.005 per call', default: false },
];

describe('plan picker limits', () => {
  it('shows the chosen plan’s limits after its description, and none for an unlimited plan', () => {
    document.body.innerHTML = '<form><input name="plan"></form>';
    expect(renderPlanPicker(document.querySelector('form')!, plans)).toBe(true);
    const select = document.querySelector('select')!;
    const description = document.getElementById(select.getAttribute('aria-describedby')!)!;
    expect(description.textContent).toBe('Try it. — 2 calls/second · 1,000 calls per billing period (then refused until it resets)');
    select.value = 'paid';
    select.dispatchEvent(new Event('change'));
    expect(description.textContent).toBe('Pay as you go.');
  });
});
