/**
 * Finding, inserting and removing a marker-delimited block in a theme file. The insertion rule is
 * what makes uninstall exact: a block is inserted as `block + eol`, except at the end of a file
 * that has no final line break, where it goes in as `eol + block`. Removal undoes whichever of the
 * two it finds, so the file comes back byte for byte.
 */
import { SyncRefusal } from './sync-errors.ts';
import { lineBreakAt, lineBreakBefore, type Eol } from './text.ts';

export interface MarkerSpec {
  begin: (version: string) => string;
  end: (version: string) => string;
  /** Global regex matching a begin or end marker of any version: group 1 BEGIN|END, group 2 version. */
  any: RegExp;
}

export interface BlockLocation {
  /** Offset of the BEGIN marker. */
  start: number;
  /** Offset just past the END marker. */
  end: number;
  version: string;
}

/**
 * The one block in `text`, or undefined when there is none. Throws SyncRefusal when the markers
 * are unbalanced, duplicated, out of order or disagree on the version: a person edited the file
 * and guessing what they meant could destroy their change.
 */
export function locateBlock(text: string, spec: MarkerSpec, file: string): BlockLocation | undefined {
  const markers = [...text.matchAll(new RegExp(spec.any.source, 'g'))];
  if (markers.length === 0) return undefined;
  const [begin, end] = markers;
  const described = markers.map((m) => `${m[1]} v${m[2]}`).join(', ');
  if (markers.length !== 2 || !begin || !end || begin[1] !== 'BEGIN' || end[1] !== 'END' || begin[2] !== end[2])
    throw new SyncRefusal(
      'sync_markers_invalid',
      file,
      `the kong-portal-monetization markers are unbalanced or duplicated (found: ${described})`,
      'restore the file from a backup under .kong-portal-monetization/backups/, or delete every line from a BEGIN kong-portal-monetization marker to its END marker by hand, then run sync again',
    );
  return { start: begin.index, end: end.index + end[0].length, version: begin[2] ?? '' };
}

/** Inserts `block` at `position` following the insertion rule. */
export function insertBlock(text: string, position: number, block: string, eol: Eol): string {
  if (position === text.length && text.length > 0 && lineBreakBefore(text, position) === '') return text + eol + block;
  return text.slice(0, position) + block + eol + text.slice(position);
}

/** Removes the located block and the one line break the insertion rule added with it. */
export function removeBlock(text: string, location: BlockLocation): string {
  const after = lineBreakAt(text, location.end);
  if (after) return text.slice(0, location.start) + text.slice(location.end + after.length);
  const before = location.end === text.length ? lineBreakBefore(text, location.start) : '';
  return text.slice(0, location.start - before.length) + text.slice(location.end);
}

/** Replaces the located block's bytes with `block`, keeping everything around it (upgrade in place). */
export function replaceBlock(text: string, location: BlockLocation, block: string): string {
  return text.slice(0, location.start) + block + text.slice(location.end);
}
