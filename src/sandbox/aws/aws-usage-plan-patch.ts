/**
 * UpdateUsagePlan (PATCH /usageplans/{id}) for a usage plan's throttle and quota, the paths the
 * AWS CLI's examples and Terraform's provider send: `add`/`replace` of /throttle/rateLimit,
 * /throttle/burstLimit, /quota/limit, /quota/period, /quota/offset, and `remove` of /throttle or
 * /quota. Values arrive as strings, as on the wire. The operations apply all or nothing.
 *
 * Where AWS's behaviour is not documented the stricter case is modelled (each marked below):
 * `replace` or `remove` of something the plan does not have is refused (JSON Patch's rule), a
 * throttle or quota left incomplete is refused rather than given a default, and other usage-plan
 * paths (/name, /description, /productCode, /apiStages) are not emulated and answer 400.
 */
import type { QuotaSettings, ThrottleSettings, UsagePlanRecord } from './aws-state.ts';

type Draft = { throttle?: Partial<ThrottleSettings>; quota?: Partial<QuotaSettings> };

/** The plan after the operations, or why AWS (or the stricter model of it) refuses them. */
export type PatchResult = { ok: true; throttle: ThrottleSettings | undefined; quota: QuotaSettings | undefined } | { ok: false; message: string };

const INT32_MAX = 2_147_483_647;
const PERIODS = ['DAY', 'WEEK', 'MONTH'] as const;
const SUPPORTED = '[/throttle/rateLimit, /throttle/burstLimit, /quota/limit, /quota/period, /quota/offset] with op add or replace, [/throttle, /quota] with op remove';

class Refused extends Error {}

function integer(path: string, value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > INT32_MAX) throw new Refused(`Invalid value '${String(value)}' for ${path}: must be a whole number from 0 to ${INT32_MAX}`);
  return n;
}

function rate(value: unknown): number {
  // A double on the wire; negative, exponent or non-finite forms are refused (stricter: AWS's parser is not documented).
  const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new Refused(`Invalid value '${String(value)}' for /throttle/rateLimit: must be a number of requests per second, 0 or more`);
  return n;
}

function period(value: unknown): QuotaSettings['period'] {
  if (!(PERIODS as readonly unknown[]).includes(value)) throw new Refused(`Invalid value '${String(value)}' for /quota/period: must be one of DAY, WEEK, MONTH`);
  return value as QuotaSettings['period'];
}

/** Sets one field; `replace` needs the object to exist already (stricter: JSON Patch's rule, AWS's is not documented). */
function setField(draft: Draft, op: 'add' | 'replace', path: string, value: unknown): void {
  const [, object, field] = path.split('/') as [string, 'throttle' | 'quota', string];
  if (op === 'replace' && !draft[object]) throw new Refused(`Cannot replace ${path}: the usage plan has no ${object}; use op 'add'`);
  if (object === 'throttle') {
    const throttle = (draft.throttle ??= {});
    if (field === 'rateLimit') throttle.rateLimit = rate(value);
    else throttle.burstLimit = integer(path, value);
    return;
  }
  const quota = (draft.quota ??= {});
  if (field === 'limit') quota.limit = integer(path, value);
  else if (field === 'offset') quota.offset = integer(path, value);
  else quota.period = period(value);
}

function applyOne(draft: Draft, raw: unknown): void {
  const { op, path, value } = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if ((path === '/throttle' || path === '/quota') && op === 'remove') {
    const object = path.slice(1) as 'throttle' | 'quota';
    // Stricter: removing what is not there is refused (JSON Patch's rule; AWS's answer is not documented).
    if (!draft[object]) throw new Refused(`Cannot remove ${path}: the usage plan has no ${object}`);
    delete draft[object];
    return;
  }
  const fields = ['/throttle/rateLimit', '/throttle/burstLimit', '/quota/limit', '/quota/period', '/quota/offset'];
  if ((op === 'add' || op === 'replace') && typeof path === 'string' && fields.includes(path)) return setField(draft, op, path, value);
  throw new Refused(`Invalid patch path '${String(path)}' specified for op '${String(op)}'. Must be one of: ${SUPPORTED}`);
}

/** A complete throttle and quota, or the refusal (stricter: AWS's defaults for a missing field are not documented). */
function finish(draft: Draft): PatchResult {
  const { throttle, quota } = draft;
  if (throttle && (throttle.rateLimit === undefined || throttle.burstLimit === undefined))
    return { ok: false, message: 'Invalid throttle: both /throttle/rateLimit and /throttle/burstLimit must be set' };
  if (quota && (quota.limit === undefined || quota.period === undefined)) return { ok: false, message: 'Invalid quota: both /quota/limit and /quota/period must be set' };
  const offset = quota?.offset ?? 0;
  // offset is requests taken off the initial period's limit (AWS's API reference); AWS's answer to
  // one larger than the limit is not documented: refused (stricter).
  if (quota && offset > (quota.limit as number)) return { ok: false, message: `Invalid quota offset ${offset}: it is requests subtracted from the limit in the initial period, at most the limit (${quota.limit})` };
  return {
    ok: true,
    throttle: throttle ? { rateLimit: throttle.rateLimit as number, burstLimit: throttle.burstLimit as number } : undefined,
    quota: quota ? { limit: quota.limit as number, period: quota.period as QuotaSettings['period'], offset } : undefined,
  };
}

/** The throttle and quota `operations` make of `plan`, all or nothing; `plan` itself is not touched. */
export function patchUsagePlanLimits(plan: Pick<UsagePlanRecord, 'throttle' | 'quota'>, operations: unknown): PatchResult {
  if (operations !== undefined && !Array.isArray(operations)) return { ok: false, message: 'Invalid patch operations: expected a list' };
  const draft: Draft = { ...(plan.throttle ? { throttle: { ...plan.throttle } } : {}), ...(plan.quota ? { quota: { ...plan.quota } } : {}) };
  try {
    for (const raw of (operations ?? []) as unknown[]) applyOne(draft, raw);
  } catch (error) {
    if (error instanceof Refused) return { ok: false, message: error.message };
    throw error;
  }
  return finish(draft);
}
