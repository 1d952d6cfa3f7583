/**
 * The contract between the build (which writes theme/) and the sync command (which splices the
 * built blocks into a workspace's own theme files). Both sides import these names; nothing else
 * should hard-code a marker or a built path.
 */
import pkg from '../../package.json' with { type: 'json' };

export const BUNDLE_NAME = 'kong-portal-monetization';
export const BUNDLE_VERSION: string = pkg.version;

/** theme/ is laid out like a portal workspace folder (the one kong-portal-cli pushes). */
export const THEME_DIR = 'theme';

/** Paths relative to theme/. */
export const BUILT = {
  /** Pushed as-is to themes/<theme>/assets/js/third-party/monetization.js. */
  script: 'themes/base/assets/js/third-party/monetization.js',
  /** Spliced at the end of themes/<theme>/assets/js/kong/kong.auth.js. */
  registerHookBlock: 'blocks/kong-auth-register-hook.js',
  /** Spliced after the jQuery script tag of themes/<theme>/partials/theme/required-scripts.html. */
  scriptTagsBlock: 'blocks/required-scripts-tags.html',
  /** Every built file with its sha256. */
  manifest: 'manifest.json',
} as const;

/** Workspace paths for a theme. */
export function workspacePaths(theme: string) {
  return {
    script: `themes/${theme}/assets/js/third-party/monetization.js`,
    kongAuth: `themes/${theme}/assets/js/kong/kong.auth.js`,
    requiredScripts: `themes/${theme}/partials/theme/required-scripts.html`,
  };
}

/**
 * Markers carry the bundle version so an upgrade can find and replace an older block in place.
 * The JS block uses block comments (valid anywhere in a script); the HTML block uses Kong template
 * comments, which the portal strips from the rendered page.
 */
export const MARKERS = {
  registerHook: {
    begin: (version: string) => `/* BEGIN ${BUNDLE_NAME} register-hook v${version} */`,
    end: (version: string) => `/* END ${BUNDLE_NAME} register-hook v${version} */`,
    /** Matches a begin or end marker of any version; group 1 = BEGIN|END, group 2 = version. */
    any: /\/\* (BEGIN|END) kong-portal-monetization register-hook v([0-9A-Za-z.+-]+) \*\//g,
  },
  scriptTags: {
    begin: (version: string) => `{# BEGIN ${BUNDLE_NAME} script-tags v${version} #}`,
    end: (version: string) => `{# END ${BUNDLE_NAME} script-tags v${version} #}`,
    any: /\{# (BEGIN|END) kong-portal-monetization script-tags v([0-9A-Za-z.+-]+) #\}/g,
  },
} as const;

/** The built script-tags block holds this token where sync writes the public config as JSON. */
export const CONFIG_PLACEHOLDER = '__PORTAL_MONETIZATION_CONFIG__';

/** Everything the browser is told. Public by construction: never add a secret here. */
export interface PublicConfig {
  /** Base URL of the provisioner as the browser reaches it, without a trailing slash. */
  provisionerUrl: string;
  /** True when the workspace has a `plan` developer meta field (so a plan picker may be shown). */
  planField: boolean;
}

/**
 * JSON for the inline config script. Escapes `<` (no `</script>` break-out) and braces inside
 * strings (Kong's template engine would read `{{` as an expression).
 */
export function serializePublicConfig(config: PublicConfig): string {
  const plain: PublicConfig = { provisionerUrl: config.provisionerUrl, planField: config.planField };
  return JSON.stringify(plain).replace(/[<>{}\u2028\u2029]/g, (c, offset: number, whole: string) => {
    // Structural braces of the flat object (first and last char) stay as they are.
    if ((c === '{' && offset === 0) || (c === '}' && offset === whole.length - 1)) return c;
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
