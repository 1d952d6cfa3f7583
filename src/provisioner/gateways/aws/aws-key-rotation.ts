/**
 * Key replacement on AWS. AWS cannot change a key's value, so a replacement is a second key of the
 * developer, made in steps that each converge when repeated:
 * 1. stage: the replaced key marked REPLACING_TAG (lookups by developer id then list by name), then
 *    CreateApiKey with the same name (email), the developer's tags, its enabled state and
 *    refusal mark (a refused developer stays refused), its customerId, plus DEVELOPER_TAG (the
 *    developer id) and REPLACES_TAG (the key it replaces). Find-before-create on REPLACES_TAG: a
 *    retry, a second tab or another process adopts the oldest such key; a creator that lost the
 *    race deletes its own. Then CreateUsagePlanKey into the plan's usage plan.
 * 2. (the account service) the Moesif user for the new key id, in the developer's company, and the
 *    developer's access as Stripe has it now applied to every key (a refusal racing step 1 included).
 * 3. show: SHOWN_TAG, then the value is read and shown.
 * 4. finish: the replaced key is deleted (AWS takes it out of its usage plans with it): it answers
 *    403 from then on. Until then the new key is not "issued" (aws-developer-keys.ts), so the same
 *    link, retried after a failure, adopts and shows the same new key and finishes.
 * Once the new value is read (step 3), a failed step 4 still shows it (the account service logs it):
 * an error page would leave the developer, once the old key goes, with a key nobody showed them.
 * What nobody retries is settled by reconcile (settleReplacements): a replacement never tagged shown
 * is deleted once no link can come back; the key it replaces is deleted only once the new key was
 * used.
 */
import { PLAN_TAG, REPLACES_TAG, REPLACING_TAG, SHOWN_TAG, DEVELOPER_TAG, isOurs, olderKeyFirst, type AwsApiKeys, type AwsKey } from './aws-api-keys.ts';
import { currentKey, replacementsOf, type DeveloperKeys } from './aws-developer-keys.ts';

/** The longest an emailed link lives (SIGNUP_LINK_TTL_MINUTES at most 1440) plus an hour: no retry can come later. */
export const SETTLE_AFTER_MS = 25 * 60 * 60_000;

/** Tags a replacement carries over from the key it replaces (not whether that one was shown, what it replaced, or that it is being replaced). */
function carriedTags(tags: Record<string, string>): Record<string, string> {
  const { [SHOWN_TAG]: _shown, [REPLACES_TAG]: _replaces, [REPLACING_TAG]: _replacing, ...rest } = tags;
  return rest;
}

async function createReplacement(keys: AwsApiKeys, developer: DeveloperKeys, replaced: AwsKey): Promise<AwsKey> {
  if (!replaced.tags[REPLACING_TAG]) await keys.tag(replaced.id, { [REPLACING_TAG]: 'true' });
  const created = await keys.create({
    name: replaced.name,
    enabled: replaced.enabled,
    customerId: replaced.customerId,
    tags: { ...carriedTags(replaced.tags), [DEVELOPER_TAG]: developer.id, [REPLACES_TAG]: replaced.id },
  });
  // Another tab or process staged one at the same moment: the oldest stays, ours goes.
  const rivals = (await keys.byName(replaced.name)).filter((key) => isOurs(key) && key.tags[REPLACES_TAG] === replaced.id);
  const winner = [...rivals, ...(rivals.some((key) => key.id === created.id) ? [] : [created])].sort(olderKeyFirst)[0] as AwsKey;
  if (winner.id !== created.id) await keys.remove(created.id);
  return winner;
}

/** Step 1: the replacement of the developer's current key, found or created once, in its usage plan. */
export async function stageReplacement(keys: AwsApiKeys, developer: DeveloperKeys): Promise<AwsKey> {
  const replaced = currentKey(developer);
  const staged = replacementsOf(developer, replaced)[0] ?? (await createReplacement(keys, developer, replaced));
  const plan = replaced.tags[PLAN_TAG];
  if (plan) await keys.ensurePlan(staged.id, plan);
  if (replaced.customerId && staged.customerId !== replaced.customerId) await keys.setCustomerId(staged.id, replaced.customerId);
  return staged;
}

/**
 * Step 4: `keyId` is deleted, after every never-shown duplicate replacement of it (a race's loser
 * left by a crash). Refused when the developer would keep no shown key: a developer never loses
 * the key they hold to a replacement they were not shown.
 */
export async function finishReplacement(keys: AwsApiKeys, developer: DeveloperKeys, keyId: string): Promise<void> {
  const replaced = developer.keys.find((key) => key.id === keyId);
  if (!replaced) return;
  const spares = replacementsOf(developer, replaced).filter((key) => !key.tags[SHOWN_TAG]);
  const kept = developer.keys.filter((key) => key.id !== keyId && !spares.includes(key) && !!key.tags[SHOWN_TAG]);
  if (kept.length === 0) throw new Error(`API key ${keyId} is the developer's only shown key: not deleted`);
  for (const spare of spares) await keys.remove(spare.id);
  await keys.remove(keyId);
}

const ageOf = (key: AwsKey, now: number) => now - key.createdDate;

/**
 * Reconcile: replacements left half-way. The rule, so that a developer always keeps a key they were
 * shown:
 * - Never tagged shown, and older than any link lives: deleted (nobody holds its value).
 * - Tagged shown: the replaced key is deleted only once the new key has been used (AWS's usage of
 *   the new key shows a call). The tag is written before the page answers, so it alone proves
 *   nothing: a crash, or a failure, between the tag and the answer leaves a key tagged shown that
 *   the developer never saw. A call with the new key proves someone holds its value, and only the
 *   page ever showed it. Until then both keys work (same developer, same access, same bill) and the
 *   developer's next replacement, through any link, shows the same new key and finishes. Trade-off:
 *   an old key the developer wanted gone lives on until the new key's first call.
 * The developer keeps at least one key. Returns how many keys were deleted.
 */
export async function settleReplacements(keys: AwsApiKeys, developer: DeveloperKeys, now: number): Promise<number> {
  let removed = 0;
  const alive = new Set(developer.keys.map((key) => key.id));
  for (const key of developer.keys) {
    const replaces = key.tags[REPLACES_TAG];
    if (!replaces || !alive.has(key.id) || !alive.has(replaces) || alive.size <= 1) continue;
    const target = key.tags[SHOWN_TAG] ? await finishedByUse(keys, key, replaces, now) : ageOf(key, now) >= SETTLE_AFTER_MS ? key.id : undefined;
    if (!target) continue;
    await keys.remove(target);
    alive.delete(target);
    removed++;
  }
  return removed;
}

/** The replaced key's id when the replacement `key` has been used since it was made; otherwise undefined (both stay). */
async function finishedByUse(keys: AwsApiKeys, key: AwsKey, replaces: string, now: number): Promise<string | undefined> {
  return (await keys.callsBetween(key.id, key.createdDate, now)) > 0 ? replaces : undefined;
}
