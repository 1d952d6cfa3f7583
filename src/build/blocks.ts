/**
 * The two blocks the sync command splices into a workspace's own theme files, each between
 * versioned markers (src/shared/bundle-layout.ts) so an upgrade replaces an old block in place.
 */
import { CONFIG_PLACEHOLDER, MARKERS, workspacePaths } from '../shared/bundle-layout.ts';

/**
 * Appended to kong.auth.js, where Kong.Auth.register exists by then. Plain ES5, guarded and
 * idempotent (wrapRegister skips an already wrapped register); it holds none of Kong's code.
 */
export function registerHookBlock(version: string): string {
  return [
    MARKERS.registerHook.begin(version),
    ';(function () {',
    '  try {',
    '    var monetization = window.PortalMonetization;',
    '    var kong = window.Kong;',
    "    if (monetization && typeof monetization.wrapRegister === 'function' && kong && kong.Auth) monetization.wrapRegister(kong.Auth);",
    "    else if (window.console) console.warn('kong-portal-monetization: monetization.js is not loaded; signup billing is off on this page');",
    '  } catch (error) {',
    "    if (window.console) console.warn('kong-portal-monetization: register hook failed', error);",
    '  }',
    '})();',
    MARKERS.registerHook.end(version),
    '',
  ].join('\n');
}

/** Relative to the theme root, as Kong's own required-scripts.html references its scripts. */
function scriptSrc(scriptShortSha: string): string {
  const { script } = workspacePaths('base');
  return `${script.slice('themes/base/'.length)}?v=${scriptShortSha}`;
}

/**
 * Placed after the jQuery tag in required-scripts.html. The config line holds CONFIG_PLACEHOLDER,
 * which sync replaces with serializePublicConfig(...). `?v=` busts caches on every new build.
 */
export function scriptTagsBlock(version: string, scriptShortSha: string): string {
  return [
    MARKERS.scriptTags.begin(version),
    `<script>window.PortalMonetizationConfig = ${CONFIG_PLACEHOLDER};</script>`,
    `<script src="${scriptSrc(scriptShortSha)}"></script>`,
    MARKERS.scriptTags.end(version),
    '',
  ].join('\n');
}
