/**
 * doctor's Moesif identity check: the Moesif Kong plugin names the user from, in order, the
 * `user_id_header` request header, X-Consumer-Custom-ID, X-Consumer-Username, X-Consumer-ID.
 * Billing needs user = the developer's email (the consumer's username), so a `user_id_header` on
 * the plugin, or a `custom_id` on a developer (Kong copies it onto the developer's consumer),
 * makes calls land on another Moesif user and go unbilled.
 */
import { KongError } from '../../kong/kong-errors.ts';
import type { KongAdminClient } from '../../kong/kong-admin-client.ts';
import type { KongPlugin } from '../../kong/kong-types.ts';
import { fail, pass, type Check } from './check-runner.ts';
import { plural } from '../../shared/plural.ts';

export const MOESIF_IDENTITY = 'Moesif user = developer email';
const SHOWN = 5;

interface IdentityCheckState {
  kong: KongAdminClient | Error;
  plugins?: KongPlugin[];
}

/** Developers (email) carrying a custom_id; undefined when the workspace has no portal to ask. */
async function developersWithCustomId(kong: KongAdminClient): Promise<string[] | undefined> {
  const found: string[] = [];
  try {
    for await (const developer of kong.listDevelopers()) if (typeof developer.custom_id === 'string' && developer.custom_id !== '') found.push(developer.email);
  } catch (error) {
    if (error instanceof KongError && error.status === 404) return undefined;
    throw error;
  }
  return found;
}

export function moesifIdentityCheck(needs: string[]): Check<IdentityCheckState> {
  return {
    name: MOESIF_IDENTITY,
    needs,
    async run(state) {
      const kong = state.kong as KongAdminClient;
      state.plugins ??= await kong.listPlugins();
      const moesif = state.plugins.filter((p) => p.name === 'moesif' && p.enabled);
      const withHeader = moesif.filter((p) => typeof p.config.user_id_header === 'string' && p.config.user_id_header !== '');
      if (withHeader.length) {
        const header = withHeader.map((p) => p.config.user_id_header as string).join(', ');
        return fail(
          `the Moesif plugin takes the user from the request header ${header}, not from the consumer username (the developer's email), so calls are not billed to the developer`,
          `clear it: curl -X PATCH ${kong.adminUrl}/${kong.workspace}/plugins/${withHeader[0]?.id} --json '{"config":{"user_id_header":null}}'`,
        );
      }
      const custom = await developersWithCustomId(kong);
      if (custom?.length) {
        const shown = custom.slice(0, SHOWN).join(', ') + (custom.length > SHOWN ? ` and ${custom.length - SHOWN} more` : '');
        return fail(
          `${plural(custom.length, 'developer has', 'developers have')} a custom_id (${shown}); the Moesif plugin prefers X-Consumer-Custom-ID over the username, so their calls are not attributed to their email`,
          `remove the custom_id of each (Kong Manager > Dev Portal > Developers), and do not set one in scripts: user = email is what billing reads`,
        );
      }
      return pass(`the Moesif plugin identifies callers by consumer username${custom === undefined ? ' (no portal: developers not checked)' : ', and no developer has a custom_id'}`);
    },
  };
}
