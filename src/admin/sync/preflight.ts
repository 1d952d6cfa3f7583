/**
 * Before anything else: can we reach Kong, is the token accepted, does the workspace exist, is its
 * portal on? Each answer is its own KongError code (and exit code), with the fix in the hint.
 */
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import { KongError } from '../../kong/kong-errors.ts';
import type { KongWorkspace } from '../../kong/kong-types.ts';

/** Returns the workspace (its config holds the developer meta fields). */
export async function preflight(client: KongAdminClient): Promise<KongWorkspace> {
  const workspace = await readWorkspace(client);
  try {
    await client.listFilesPage({ size: 1 });
  } catch (error) {
    if (error instanceof KongError && error.status === 404) throw portalDisabled(client);
    throw error;
  }
  return workspace;
}

/**
 * The workspace-scoped route first (an RBAC role limited to one workspace may read it), then the
 * root /workspaces route that older Kong versions and emulators answer.
 */
async function readWorkspace(client: KongAdminClient): Promise<KongWorkspace> {
  const name = encodeURIComponent(client.workspace);
  try {
    return (await client.request<KongWorkspace>('GET', `${client.ws}/workspaces/${name}`)).body;
  } catch (error) {
    if (!(error instanceof KongError && error.status === 404)) throw error;
  }
  let workspace: KongWorkspace | undefined;
  try {
    workspace = await client.getWorkspace();
  } catch (error) {
    // The scoped route already said 404; a 403 here only means the root route is out of the role's reach.
    if (!(error instanceof KongError && error.status === 403)) throw error;
  }
  if (!workspace)
    throw new KongError('kong_workspace_not_found', `workspace "${client.workspace}" does not exist in Kong at ${client.adminUrl}`, {
      status: 404,
      method: 'GET',
      path: `/workspaces/${name}`,
      hint: 'check --workspace (or KONG_WORKSPACE); `GET /workspaces` on the Admin API lists the workspaces',
    });
  return workspace;
}

function portalDisabled(client: KongAdminClient): KongError {
  const ws = client.workspace;
  return new KongError('kong_portal_disabled', `the portal is not enabled for workspace "${ws}" (the Admin API answers 404 on /${ws}/files)`, {
    status: 404,
    method: 'GET',
    path: `/${ws}/files`,
    hint:
      `turn the Dev Portal on for "${ws}" in Kong Manager (workspace settings, Dev Portal toggle), or: ` +
      `curl -X PATCH "$KONG_ADMIN_URL/${ws}/workspaces/${ws}" -H "Kong-Admin-Token: $KONG_ADMIN_TOKEN" -H 'content-type: application/json' -d '{"config":{"portal":true}}'` +
      ' (portal = on must also be set in kong.conf)',
  });
}
