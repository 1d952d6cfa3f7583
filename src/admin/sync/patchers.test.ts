import { describe, expect, it } from 'vitest';
import { MARKERS, serializePublicConfig } from '../../shared/bundle-layout.ts';
import { hookBlock, kongAuthJs, releaseShapedRequiredScripts, requiredScriptsHtml, tagsBlock, toCrlf, type RegisterShape } from '../../testkit/theme-fixtures.ts';
import { definesRegister, patchKongAuth, unpatchKongAuth } from './patch-kong-auth.ts';
import { findScriptTags, patchRequiredScripts, unpatchRequiredScripts } from './patch-required-scripts.ts';
import { SyncRefusal } from './sync-errors.ts';

const AUTH = 'themes/base/assets/js/kong/kong.auth.js';
const SCRIPTS = 'themes/base/partials/theme/required-scripts.html';
const config = { provisionerUrl: 'https://billing.example.com', planField: true };

function refusalCode(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof SyncRefusal) return error.code;
    throw error;
  }
  throw new Error('expected a SyncRefusal');
}

describe('kong.auth.js patcher', () => {
  it.each<RegisterShape>(['assignment', 'object-property', 'method-shorthand'])('appends the hook after a %s register and removes it exactly', (shape) => {
    const original = kongAuthJs(shape);
    expect(definesRegister(original)).toBe(true);
    const patched = patchKongAuth(original, hookBlock('1.0.0'), AUTH);
    expect(patched.startsWith(original)).toBe(true);
    expect(patched.slice(original.length)).toBe(hookBlock('1.0.0'));
    expect(unpatchKongAuth(patched, AUTH)).toBe(original);
  });

  it('is idempotent: patching a patched file changes nothing', () => {
    const patched = patchKongAuth(kongAuthJs(), hookBlock('1.0.0'), AUTH);
    expect(patchKongAuth(patched, hookBlock('1.0.0'), AUTH)).toBe(patched);
  });

  it('replaces an older block in place, keeping text the admin added after it', () => {
    const original = kongAuthJs();
    const old = patchKongAuth(original, hookBlock('0.9.0', 'old()'), AUTH) + '// admin addition\n';
    const upgraded = patchKongAuth(old, hookBlock('1.0.0', 'new()'), AUTH);
    expect(upgraded).toBe(original + hookBlock('1.0.0', 'new()') + '// admin addition\n');
    expect(upgraded).not.toContain('0.9.0');
    expect(unpatchKongAuth(upgraded, AUTH)).toBe(original + '// admin addition\n');
  });

  it('keeps CRLF line endings and restores the CRLF file byte for byte', () => {
    const original = toCrlf(kongAuthJs());
    const patched = patchKongAuth(original, hookBlock('1.0.0'), AUTH);
    expect(patched.slice(original.length)).toBe(toCrlf(hookBlock('1.0.0')));
    expect(patched.replace(/\r\n/g, '')).not.toContain('\n');
    expect(unpatchKongAuth(patched, AUTH)).toBe(original);
  });

  it('handles a file without a final line break', () => {
    const original = kongAuthJs().replace(/\n$/, '') + '  // trailing comment';
    const patched = patchKongAuth(original, hookBlock('1.0.0'), AUTH);
    // The hook starts on its own line, never inside the trailing line comment.
    expect(patched).toContain(`// trailing comment\n${MARKERS.registerHook.begin('1.0.0')}`);
    expect(unpatchKongAuth(patched, AUTH)).toBe(original);
    const upgraded = patchKongAuth(patched, hookBlock('2.0.0'), AUTH);
    expect(unpatchKongAuth(upgraded, AUTH)).toBe(original);
  });

  it('refuses a file without Kong.Auth.register', () => {
    const withoutRegister = kongAuthJs().replace('window.Kong.Auth.register = function', 'window.Kong.Auth.signup = function');
    expect(definesRegister(withoutRegister)).toBe(false);
    expect(refusalCode(() => patchKongAuth(withoutRegister, hookBlock('1.0.0'), AUTH))).toBe('sync_no_register');
  });

  it.each([
    ['a BEGIN without END', (v: string) => MARKERS.registerHook.begin(v)],
    ['an END without BEGIN', (v: string) => MARKERS.registerHook.end(v)],
    ['two blocks', (v: string) => hookBlock(v) + hookBlock(v)],
    ['mismatched versions', (v: string) => `${MARKERS.registerHook.begin(v)}\n${MARKERS.registerHook.end('0.1.0')}`],
    ['END before BEGIN', (v: string) => `${MARKERS.registerHook.end(v)}\n${MARKERS.registerHook.begin(v)}`],
  ])('refuses %s, on install and on uninstall', (_name, damage) => {
    const damaged = kongAuthJs() + damage('1.0.0') + '\n';
    expect(refusalCode(() => patchKongAuth(damaged, hookBlock('1.0.0'), AUTH))).toBe('sync_markers_invalid');
    expect(refusalCode(() => unpatchKongAuth(damaged, AUTH))).toBe('sync_markers_invalid');
  });
});

describe('required-scripts.html patcher', () => {
  const rendered = tagsBlock('1.0.0').replace('__PORTAL_MONETIZATION_CONFIG__', serializePublicConfig(config));

  it('inserts the block on the line after the jQuery tag, with the public config', () => {
    const original = requiredScriptsHtml();
    const patched = patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS);
    expect(patched).toBe(original.replace('jquery.min.js"></script>\n', `jquery.min.js"></script>\n${rendered}`));
    expect(patched).not.toContain('__PORTAL_MONETIZATION_CONFIG__');
    expect(unpatchRequiredScripts(patched, SCRIPTS)).toBe(original);
  });

  it.each([
    ['LF', (text: string) => text],
    ['CRLF', toCrlf],
  ])('patches a partial laid out like the kong-portal-templates release (%s)', (_name, transform) => {
    const original = transform(releaseShapedRequiredScripts());
    const patched = patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS);
    const srcs = findScriptTags(patched).map((tag) => tag.src);
    expect(srcs.slice(0, 4)).toEqual(['assets/js/third-party/jquery.min.js', undefined, 'assets/js/third-party/monetization.js', 'assets/js/kong/kong.js']);
    expect(patched.split(/\r?\n/).length).toBe(original.split(/\r?\n/).length + 4);
    expect(unpatchRequiredScripts(patched, SCRIPTS)).toBe(original);
  });

  it('inserts before kong.js when there is no jQuery tag', () => {
    const original = requiredScriptsHtml({ jquery: false });
    const patched = patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS);
    expect(patched).toBe(original.replace('<script src="assets/js/kong/kong.js">', `${rendered}<script src="assets/js/kong/kong.js">`));
    expect(unpatchRequiredScripts(patched, SCRIPTS)).toBe(original);
  });

  it('tolerates extra scripts, whitespace and CRLF, and restores byte for byte', () => {
    const original = toCrlf(requiredScriptsHtml({ extraScripts: true })).replace('jquery.min.js"></script>', 'jquery.min.js" ></script>  ');
    const patched = patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS);
    const tags = findScriptTags(patched).map((tag) => tag.src);
    // jquery, the inline config script, monetization.js, then the extra script and Kong's own.
    expect(tags.slice(0, 4)).toEqual(['assets/js/third-party/jquery.min.js', undefined, 'assets/js/third-party/monetization.js', 'assets/js/third-party/analytics.js']);
    expect(patched.replace(/\r\n/g, '')).not.toContain('\n');
    expect(unpatchRequiredScripts(patched, SCRIPTS)).toBe(original);
  });

  it('inserts right after </script> when the jQuery tag shares its line with other tags', () => {
    const original = '<script src="jquery-3.7.1.min.js"></script><script src="kong.js"></script><script src="kong.auth.js"></script>';
    const patched = patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS);
    expect(findScriptTags(patched).map((tag) => tag.src)).toEqual(['jquery-3.7.1.min.js', null, 'assets/js/third-party/monetization.js', 'kong.js', 'kong.auth.js'].map((src) => src ?? undefined));
    expect(unpatchRequiredScripts(patched, SCRIPTS)).toBe(original);
  });

  it('reads src written through a template helper', () => {
    const original = `<script src="{{ l('assets/js/third-party/jquery.min.js') }}"></script>\n<script src='{{ l("assets/js/kong/kong.auth.js") }}'></script>\n`;
    const patched = patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS);
    expect(patched.indexOf('{# BEGIN kong-portal-monetization')).toBe(original.indexOf('<script src=\'{{'));
    expect(unpatchRequiredScripts(patched, SCRIPTS)).toBe(original);
  });

  it('upgrades in place and picks up a new config', () => {
    const original = requiredScriptsHtml();
    const old = patchRequiredScripts(original, tagsBlock('0.9.0'), { provisionerUrl: 'http://old.example', planField: false }, SCRIPTS);
    const upgraded = patchRequiredScripts(old, tagsBlock('1.0.0'), config, SCRIPTS);
    expect(upgraded).toBe(patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS));
    expect(unpatchRequiredScripts(upgraded, SCRIPTS)).toBe(original);
  });

  it('refuses when kong.auth.js is not loaded', () => {
    const original = requiredScriptsHtml().replace('<script src="assets/js/kong/kong.auth.js"></script>\n', '');
    expect(refusalCode(() => patchRequiredScripts(original, tagsBlock('1.0.0'), config, SCRIPTS))).toBe('sync_no_kong_auth_script');
  });

  it('refuses duplicated blocks', () => {
    const patched = patchRequiredScripts(requiredScriptsHtml(), tagsBlock('1.0.0'), config, SCRIPTS);
    const doubled = patched + rendered;
    expect(refusalCode(() => patchRequiredScripts(doubled, tagsBlock('1.0.0'), config, SCRIPTS))).toBe('sync_markers_invalid');
    expect(refusalCode(() => unpatchRequiredScripts(doubled, SCRIPTS))).toBe('sync_markers_invalid');
  });

  it('escapes the config so a hostile URL cannot break out of the script', () => {
    const patched = patchRequiredScripts(requiredScriptsHtml(), tagsBlock('1.0.0'), { provisionerUrl: 'https://x.example/</script>{{x}}$&', planField: false }, SCRIPTS);
    expect(patched).not.toContain('</script>{{');
    expect(patched).toContain('$&');
  });
});
