/**
 * Splices the script-tags block (inline public config + monetization.js) into a workspace's own
 * partials/theme/required-scripts.html: right after the jQuery script tag, or before kong.js when
 * there is no jQuery tag, and takes it out again.
 */
import { CONFIG_PLACEHOLDER, MARKERS, serializePublicConfig, type PublicConfig } from '../../shared/bundle-layout.ts';
import { insertBlock, locateBlock, removeBlock, replaceBlock, type BlockLocation } from './marked-block.ts';
import { SyncRefusal } from './sync-errors.ts';
import { detectEol, lineBreakAt, withEol } from './text.ts';

interface ScriptTag {
  src: string | undefined;
  /** Offset of `<script`. */
  start: number;
  /** Offset just past `</script>`. */
  end: number;
}

const SCRIPT_ELEMENT = /<script\b([^>]*)>[\s\S]*?<\/script\s*>/gi;
const SRC_ATTRIBUTE = /\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

/** Every <script> element, with its src (template expressions such as {{l('...')}} kept as written). */
export function findScriptTags(html: string): ScriptTag[] {
  return [...html.matchAll(SCRIPT_ELEMENT)].map((match) => {
    const src = SRC_ATTRIBUTE.exec(match[1] ?? '');
    return { src: src ? (src[1] ?? src[2] ?? src[3]) : undefined, start: match.index, end: match.index + match[0].length };
  });
}

const isJquery = (src: string) => /jquery[^/'"]*\.js\b/i.test(src);
const isKongJs = (src: string) => /(?:^|[/'"])kong\.js\b/i.test(src);
const isKongAuthJs = (src: string) => /kong\.auth\.js\b/i.test(src);

export function locateScriptTags(html: string, file: string): BlockLocation | undefined {
  return locateBlock(html, MARKERS.scriptTags, file);
}

/** The built block with the public config in place of the placeholder. */
function renderScriptTagsBlock(tagsBlock: string, config: PublicConfig): string {
  return tagsBlock.split(CONFIG_PLACEHOLDER).join(serializePublicConfig(config));
}

/** required-scripts.html with the current block: replaced in place when present, else inserted. */
export function patchRequiredScripts(html: string, tagsBlock: string, config: PublicConfig, file: string): string {
  const location = locateScriptTags(html, file);
  const pristine = location ? removeBlock(html, location) : html;
  const tags = findScriptTags(pristine).filter((tag): tag is ScriptTag & { src: string } => tag.src !== undefined);
  if (!tags.some((tag) => isKongAuthJs(tag.src)))
    throw new SyncRefusal(
      'sync_no_kong_auth_script',
      file,
      'does not load assets/js/kong/kong.auth.js, so the signup hook would never run',
      'restore the <script src="assets/js/kong/kong.auth.js"></script> tag (kong-portal-templates has it after jquery, kong.js and kong.utils.js), or pass --theme with the theme the portal really uses',
    );
  const eol = detectEol(html);
  const block = withEol(renderScriptTagsBlock(tagsBlock, config), eol);
  if (location) return replaceBlock(html, location, block);
  return insertBlock(pristine, insertionPoint(pristine, tags), block, eol);
}

/** required-scripts.html without the block, byte for byte what it was before install. */
export function unpatchRequiredScripts(html: string, file: string): string {
  const location = locateScriptTags(html, file);
  return location ? removeBlock(html, location) : html;
}

function insertionPoint(html: string, tags: Array<ScriptTag & { src: string }>): number {
  const jquery = tags.find((tag) => isJquery(tag.src));
  if (jquery) {
    // After the tag's line when nothing but blanks follows it; else right after </script>.
    const rest = /^[ \t]*/.exec(html.slice(jquery.end))?.[0] ?? '';
    const lineBreak = lineBreakAt(html, jquery.end + rest.length);
    return lineBreak || jquery.end + rest.length === html.length ? jquery.end + rest.length + lineBreak.length : jquery.end;
  }
  const before = tags.find((tag) => isKongJs(tag.src)) ?? tags.find((tag) => isKongAuthJs(tag.src));
  if (!before) return html.length;
  // At the start of the tag's line when only blanks precede it, so the indentation stays with the tag.
  const lineStart = Math.max(html.lastIndexOf('\n', before.start - 1) + 1, 0);
  return /^[ \t]*$/.test(html.slice(lineStart, before.start)) ? lineStart : before.start;
}
