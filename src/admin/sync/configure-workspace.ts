/**
 * `--configure-workspace`: the workspace's developer meta fields must hold an optional `plan` field
 * (the register form then shows it and the provisioner reads meta.plan). Every existing field is kept.
 */
import { MonetizationError } from '../../shared/errors.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongWorkspace } from '../../kong/kong-types.ts';

const PLAN_FIELD_TITLE = 'plan';

/** Kong's meta field shape: `validator` carries type and required. */
export interface MetaField {
  title: string;
  label?: string;
  validator?: { type?: string; required?: boolean; [key: string]: unknown };
  [key: string]: unknown;
}

function readMetaFields(workspace: KongWorkspace): MetaField[] {
  const raw = workspace.config.portal_developer_meta_fields;
  if (raw === undefined || raw === null || raw === '') return [];
  let fields: unknown;
  try {
    fields = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch (error) {
    throw new MonetizationError('sync_meta_fields_invalid', `workspace "${workspace.name}": config.portal_developer_meta_fields is not JSON`, {
      hint: 'fix the developer meta fields in Kong Manager (Dev Portal > Settings > Registration)',
      cause: error,
    });
  }
  return Array.isArray(fields) ? fields.filter((field): field is MetaField => typeof field === 'object' && field !== null && typeof field.title === 'string') : [];
}

export function hasPlanField(workspace: KongWorkspace): boolean {
  return readMetaFields(workspace).some((field) => field.title === PLAN_FIELD_TITLE);
}

/** The meta fields with an optional plan field, or undefined when they already have one. */
export function withOptionalPlanField(fields: MetaField[]): MetaField[] | undefined {
  const existing = fields.find((field) => field.title === PLAN_FIELD_TITLE);
  if (!existing) return [...fields, { label: 'Plan', title: PLAN_FIELD_TITLE, validator: { required: false, type: 'string' } }];
  if (existing.validator?.required !== true && existing.required !== true) return undefined;
  return fields.map((field) => (field === existing ? { ...field, required: false, validator: { ...field.validator, required: false } } : field));
}

type WorkspaceConfigAction = 'updated' | 'unchanged';

/** PATCHes the config (the whole config object, so no Kong version can drop other keys). */
export async function ensurePlanField(client: KongAdminClient, workspace: KongWorkspace, dryRun: boolean): Promise<{ action: WorkspaceConfigAction; writes: number; before: string; after: string }> {
  const fields = readMetaFields(workspace);
  const next = withOptionalPlanField(fields);
  const before = JSON.stringify(fields, null, 2);
  if (!next) return { action: 'unchanged', writes: 0, before, after: before };
  const after = JSON.stringify(next, null, 2);
  if (!dryRun) await client.patchWorkspaceConfig({ ...workspace.config, portal_developer_meta_fields: JSON.stringify(next) });
  return { action: 'updated', writes: dryRun ? 0 : 1, before, after };
}
