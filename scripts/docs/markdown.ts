/** Markdown helpers for the generated docs sections: tables, and the markers they live between. */

/** `<` outside code spans would start an HTML tag on GitHub and hide the text after it. */
const escapeHtml = (text: string) => text.split('`').map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;') : part)).join('`');

/** A GitHub table; pipes, newlines and `<` in cells are escaped so a description cannot break a row. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const cell = (text: string) => escapeHtml(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

export const code = (text: string): string => `\`${text}\``;

const START = (name: string) => `<!-- generated:${name} (npm run docs; do not edit by hand) -->`;
const END = (name: string) => `<!-- /generated:${name} -->`;
const ANY_START = /<!-- generated:([a-z0-9-]+) \(npm run docs; do not edit by hand\) -->/g;

/** Names of the generated sections a document asks for, in order. */
function sectionNames(text: string): string[] {
  return [...text.matchAll(ANY_START)].map((match) => match[1] as string);
}

/**
 * The document with each generated section's body replaced. Throws, naming the file and the
 * section, when a marker has no end or names a section no generator makes.
 */
export function fillSections(file: string, text: string, render: (name: string) => string | undefined): string {
  let result = text;
  for (const name of sectionNames(text)) {
    const start = result.indexOf(START(name));
    const end = result.indexOf(END(name), start);
    if (end < 0) throw new Error(`${file}: generated section "${name}" has no end marker ${END(name)}`);
    const body = render(name);
    if (body === undefined) throw new Error(`${file}: no generator makes the section "${name}"`);
    result = `${result.slice(0, start)}${START(name)}\n${body.trim()}\n${result.slice(end)}`;
  }
  return result;
}
