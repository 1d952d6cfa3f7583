// Walk logic with a stand-in provisioner: classification, skipping, failures, fatal errors,
// dry run and the Moesif flush. The emulator-backed test (reconcile.emulators.test.ts) covers
// the real provisioner against Kong, Stripe and Moesif fakes.
import { describe, expect, it } from 'vitest';
import type { KongDeveloper } from '../../kong/kong-types.ts';
import type { DeveloperInspection, ProvisionOutcome, Provisioner } from '../../provisioner/core/provisioner.ts';
import { MonetizationError } from '../../shared/errors.ts';
import { reconcileDevelopers, type ReconcileDeps } from './reconcile-developers.ts';

function developer(i: number, status = 0): KongDeveloper {
  return { id: `dev-${i}`, email: `dev${i}@example.com`, status, meta: '{}', consumer: { id: `c-${i}` }, created_at: i };
}

async function* pages(developers: KongDeveloper[]): AsyncGenerator<KongDeveloper> {
  for (const d of developers) {
    await Promise.resolve();
    yield d;
  }
}

/** Developers whose id is in `whole` have everything; others get created parts on provision. */
function fakeProvisioner(whole: Set<string>, failing: Map<string, Error> = new Map()) {
  const calls = { provision: [] as string[], inspect: [] as string[] };
  const provisioner: Pick<Provisioner, 'provisionDeveloper' | 'inspectDeveloper' | 'isProvisionable'> = {
    isProvisionable: (d) => [0, 1, 5].includes(d.status),
    async provisionDeveloper(input) {
      const d = input as KongDeveloper;
      calls.provision.push(d.id);
      const failure = failing.get(d.id);
      if (failure) throw failure;
      const had = whole.has(d.id);
      whole.add(d.id);
      return { developerId: d.id, customerId: 'cus', subscriptionId: 'sub', plan: 'p', moesif: 'synced', created: { customer: !had, subscription: !had } } satisfies ProvisionOutcome;
    },
    async inspectDeveloper(input) {
      const d = input as KongDeveloper;
      calls.inspect.push(d.id);
      const isWhole = whole.has(d.id);
      return { developerId: d.id, whole: isWhole, missing: isWhole ? [] : ['customer', 'subscription'], planError: undefined } as unknown as DeveloperInspection;
    },
  };
  return { provisioner, calls };
}

describe('reconcileDevelopers', () => {
  const developers = [developer(1), developer(2), developer(3, 2), developer(4, 3), developer(5), developer(6, 1)];

  it('counts whole, fixed and skipped developers and provisions each provisionable one once', async () => {
    const { provisioner, calls } = fakeProvisioner(new Set(['dev-1', 'dev-5']));
    const progress: number[] = [];
    const report = await reconcileDevelopers(
      { listDevelopers: () => pages(developers), provisioner },
      { concurrency: 3, progressEvery: 2, onProgress: (p) => progress.push(p.seen) },
    );
    expect(report).toMatchObject({ seen: 6, alreadyWhole: 2, fixed: 2, failed: 0, skipped: 2, skippedByStatus: { rejected: 1, revoked: 1 } });
    expect(report.fixes.map((f) => f.developerId).sort()).toEqual(['dev-2', 'dev-6']);
    expect(calls.provision.sort()).toEqual(['dev-1', 'dev-2', 'dev-5', 'dev-6']);
    // Every 2 finished developers, then once at the end: each count reported once.
    expect(progress).toEqual([2, 4, 6, 6]);
  });

  it('a second run finds everyone whole', async () => {
    const whole = new Set<string>();
    const { provisioner } = fakeProvisioner(whole);
    await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner });
    const again = await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner });
    expect(again).toMatchObject({ alreadyWhole: 4, fixed: 0, failed: 0 });
  });

  it('dry run inspects only and reports what it would fix', async () => {
    const { provisioner, calls } = fakeProvisioner(new Set(['dev-1']));
    const report = await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner }, { dryRun: true });
    expect(calls.provision).toEqual([]);
    expect(report).toMatchObject({ dryRun: true, alreadyWhole: 1, fixed: 3 });
    expect(report.fixes.find((f) => f.developerId === 'dev-2')?.parts).toEqual(['customer', 'subscription']);
  });

  it('"repaired" mode provisions only developers that are not whole', async () => {
    const { provisioner, calls } = fakeProvisioner(new Set(['dev-1', 'dev-5']));
    const report = await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner }, { moesif: 'repaired' });
    expect(calls.provision.sort()).toEqual(['dev-2', 'dev-6']);
    expect(report).toMatchObject({ alreadyWhole: 2, fixed: 2 });
  });

  it('records a failure with its code and reason and carries on', async () => {
    const failing = new Map([['dev-2', new MonetizationError('stripe_unavailable', 'Stripe is unavailable while trying to create the customer')]]);
    const { provisioner } = fakeProvisioner(new Set(), failing);
    const report = await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner });
    expect(report.failed).toBe(1);
    expect(report.fixed).toBe(3);
    expect(report.failures).toEqual([{ developerId: 'dev-2', email: 'dev2@example.com', code: 'stripe_unavailable', reason: 'Stripe is unavailable while trying to create the customer' }]);
  });

  // Issue 17.2: reconcile reported "failed" but never blocked a developer it could not provision.
  it('still converges the access of a developer it failed to provision, and reports the blocking', async () => {
    const failing = new Map([['dev-2', new MonetizationError('plan_not_found', 'plan "doesnotexist" is not offered and there is no default plan')]]);
    const { provisioner } = fakeProvisioner(new Set(), failing);
    const synced: string[] = [];
    const syncAccess: ReconcileDeps['syncAccess'] = async (d) => {
      synced.push(d.id);
      return d.id === 'dev-2' ? { change: 'blocked', decision: { access: 'refused', reason: 'provisioning_failed' } } : { change: 'unchanged', decision: { access: 'allowed', reason: 'active' } };
    };
    const report = await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner, syncAccess });
    expect(report.failures.map((failure) => [failure.developerId, failure.code])).toEqual([['dev-2', 'plan_not_found']]);
    expect(synced).toContain('dev-2');
    expect(report.accessChanges).toContainEqual({ developerId: 'dev-2', email: 'dev2@example.com', change: 'blocked', reason: 'provisioning_failed' });
  });

  it('stops on a rejected Stripe key instead of failing every developer', async () => {
    const failing = new Map([['dev-1', new MonetizationError('stripe_unauthorized', 'Stripe rejected the key')]]);
    const { provisioner } = fakeProvisioner(new Set(), failing);
    await expect(reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner }, { concurrency: 1 })).rejects.toThrow('Stripe rejected the key');
  });

  it('a developer whose Moesif record is still pending after the final flush counts as failed', async () => {
    const { provisioner } = fakeProvisioner(new Set(['dev-1']));
    let flushed = 0;
    const moesif: NonNullable<ReconcileDeps['moesif']> = { flush: async () => void flushed++, isPending: (id) => id === 'dev-1' || id === 'dev-2' };
    const report = await reconcileDevelopers({ listDevelopers: () => pages(developers), provisioner, moesif });
    expect(flushed).toBe(1);
    expect(report).toMatchObject({ alreadyWhole: 0, fixed: 2, failed: 2 });
    expect(report.failures.map((f) => [f.developerId, f.code])).toEqual([
      ['dev-1', 'moesif_unavailable'],
      ['dev-2', 'moesif_unavailable'],
    ]);
  });
});
