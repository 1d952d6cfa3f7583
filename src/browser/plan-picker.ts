/**
 * Turns the register form's `plan` field into a labelled <select> of the provisioner's plans.
 * Kong renders a text input for a `plan` developer meta field; we replace that input (same name
 * and id, so its label and Kong's meta handling keep working) instead of adding a second field.
 * The choice travels in the form's serializeArray(), so Kong stores it in the developer's meta.
 */
import type { PlansResponse, PublicPlan } from '../shared/provisioner-api.ts';
import type { BrowserConfig } from './config.ts';

const PLAN_FIELD = 'plan';
const DEFAULT_ID = 'portal-monetization-plan';

function isPublicPlan(value: unknown): value is PublicPlan {
  if (typeof value !== 'object' || value === null) return false;
  const plan = value as Record<string, unknown>;
  return typeof plan.id === 'string' && plan.id !== '' && typeof plan.name === 'string' && typeof plan.priceSummary === 'string';
}

export async function fetchPlans(config: BrowserConfig, fetchFn: typeof fetch): Promise<PublicPlan[]> {
  const response = await fetchFn(`${config.provisionerUrl}/plans`, { headers: { Accept: 'application/json' }, credentials: 'omit' });
  if (!response.ok) throw new Error(`GET ${config.provisionerUrl}/plans answered HTTP ${response.status}`);
  const body = (await response.json()) as Partial<PlansResponse> | null;
  return Array.isArray(body?.plans) ? body.plans.filter(isPublicPlan) : [];
}

/** Option text: "Name (price summary)". */
function planLabel(plan: PublicPlan): string {
  return plan.priceSummary ? `${plan.name} (${plan.priceSummary})` : plan.name;
}

/** Which plan starts selected: what was already typed if it names a plan, else the default, else the first. */
function initialPlanId(plans: readonly PublicPlan[], typed: string): string | undefined {
  return (plans.find((p) => p.id === typed) ?? plans.find((p) => p.default) ?? plans[0])?.id;
}

/** Returns true when a picker is on the page afterwards. */
export function renderPlanPicker(form: HTMLFormElement, plans: readonly PublicPlan[]): boolean {
  if (plans.length < 2) return false;
  const doc = form.ownerDocument;
  const existing = form.querySelector(`[name="${PLAN_FIELD}"]`);
  if (existing instanceof HTMLSelectElement) return true;
  const input = existing instanceof HTMLInputElement ? existing : null;

  const select = doc.createElement('select');
  select.name = PLAN_FIELD;
  select.id = input?.id || DEFAULT_ID;
  select.required = true;
  if (input?.className) select.className = input.className;
  const selectedId = initialPlanId(plans, input?.value.trim() ?? '');
  for (const plan of plans) select.add(new Option(planLabel(plan), plan.id, false, plan.id === selectedId));

  const description = doc.createElement('small');
  // On a line of its own: inline, it sat beside the submit button.
  description.style.display = 'block';
  description.id = `${select.id}-description`;
  select.setAttribute('aria-describedby', description.id);
  const describe = () => {
    const plan = plans.find((p) => p.id === select.value);
    description.textContent = [plan?.description, plan?.limitsSummary].filter(Boolean).join(' — ');
  };
  select.addEventListener('change', describe);
  describe();

  const parts = doc.createDocumentFragment();
  if (!doc.querySelector(`label[for="${select.id}"]`) && !select.closest('label')) {
    const label = doc.createElement('label');
    label.htmlFor = select.id;
    label.textContent = 'Plan';
    parts.appendChild(label);
  }
  parts.appendChild(select);
  parts.appendChild(description);

  if (input) {
    input.replaceWith(parts);
  } else {
    const submit = form.querySelector('[type="submit"], button:not([type])');
    if (submit?.parentNode) submit.parentNode.insertBefore(parts, submit);
    else form.appendChild(parts);
  }
  return true;
}
