/** Unified diffs for --dry-run (git style names; /dev/null for a created or deleted file). */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

export function unifiedDiff(path: string, before: string | undefined, after: string | undefined): string {
  return createTwoFilesPatch(
    before === undefined ? '/dev/null' : `a/${path}`,
    after === undefined ? '/dev/null' : `b/${path}`,
    before ?? '',
    after ?? '',
    undefined,
    undefined,
    { context: 3, headerOptions: FILE_HEADERS_ONLY },
  );
}

/** For a terminal: very long lines (minified bundles) cut to `max` characters with a count of the rest. */
export function abbreviateLongLines(diff: string, max = 160): string {
  return diff
    .split('\n')
    .map((line) => (line.length > max ? `${line.slice(0, max)}… (${line.length - max} more characters)` : line))
    .join('\n');
}
