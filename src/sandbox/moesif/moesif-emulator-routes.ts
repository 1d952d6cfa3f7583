/**
 * The Moesif emulator's emulator-only routes (/_emulator/...): what it collected, the usage flush
 * to Stripe and what it reported, plus the shared counters/config/faults/reset routes.
 */
import { z } from 'zod';
import { emulatorError, faultRuleFields, faultRuleFromJson, mountControlRoutes } from '../faults/emulator-control.ts';
import type { MoesifEmulator, MoesifEmulatorKnobs } from './moesif-emulator-api.ts';
import { MOESIF_FAULT_KINDS } from './moesif-fault-kinds.ts';

const faultRuleSchema = z
  .object({
    ...faultRuleFields(MOESIF_FAULT_KINDS),
    /** Only bodies whose user_id equals this (batch bodies: any element). */
    userId: z.string().optional(),
  })
  .strict();

function mentionsUser(body: unknown, userId: string): boolean {
  const items = Array.isArray(body) ? body : [body];
  return items.some((item) => typeof item === 'object' && item !== null && (item as { user_id?: unknown }).user_id === userId);
}

export function mountEmulatorRoutes(emulator: MoesifEmulator, partialKnobs: z.ZodType<Partial<MoesifEmulatorKnobs>>): void {
  const { app, store } = emulator;
  app.get('/_emulator/users', (c) => c.json([...store.users.values()]));
  app.get('/_emulator/users/:id', (c) => {
    const user = store.users.get(c.req.param('id'));
    return user ? c.json(user) : c.json(emulatorError(`No user ${c.req.param('id')}`), 404);
  });
  app.get('/_emulator/companies', (c) => c.json([...store.companies.values()]));
  app.get('/_emulator/companies/:id', (c) => {
    const company = store.companies.get(c.req.param('id'));
    return company ? c.json(company) : c.json(emulatorError(`No company ${c.req.param('id')}`), 404);
  });
  app.get('/_emulator/events', (c) => {
    const userId = c.req.query('user_id');
    const companyId = c.req.query('company_id');
    return c.json(store.events.filter((event) => (userId === undefined || event.user_id === userId) && (companyId === undefined || event.company_id === companyId)));
  });
  app.post('/_emulator/flush', async (c) => {
    if (!emulator.billing()) return c.json(emulatorError('usage billing is not configured (configureBilling / the billing option)'), 409);
    try {
      return c.json(await emulator.flushUsage());
    } catch (error) {
      return c.json(emulatorError(`flush failed: ${(error as Error).message}`), 502);
    }
  });
  app.get('/_emulator/billing', (c) => {
    const billing = emulator.billing();
    if (!billing) return c.json({ configured: false });
    const { stripeSecretKey: _key, ...settings } = billing.settings;
    return c.json({ configured: true, settings, reported: billing.reported });
  });
  mountControlRoutes(emulator, {
    partialKnobs,
    faultRule: faultRuleSchema,
    toFaultRule: ({ userId, ...json }) => {
      const rule = faultRuleFromJson(json);
      if (userId !== undefined) rule.match = (request) => mentionsUser(request.params, userId);
      return rule;
    },
  });
}
