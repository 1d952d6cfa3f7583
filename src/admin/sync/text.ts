/** Small text helpers shared by the patchers: line endings and checksums. */

export type Eol = '\n' | '\r\n';

/** The file's own line ending: the majority of its line breaks (LF when it has none). */
export function detectEol(text: string): Eol {
  const crlf = text.split('\r\n').length - 1;
  const lf = text.split('\n').length - 1 - crlf;
  return crlf > lf ? '\r\n' : '\n';
}

/** A built block (LF or CRLF, maybe with trailing newlines) as lines joined by `eol`, without a final break. */
export function withEol(block: string, eol: Eol): string {
  return block.replace(/(?:\r?\n)+$/, '').split(/\r?\n/).join(eol);
}


/** The line break starting at `index`, if any. */
export function lineBreakAt(text: string, index: number): string {
  if (text.startsWith('\r\n', index)) return '\r\n';
  return text[index] === '\n' ? '\n' : '';
}

/** The line break ending just before `index`, if any. */
export function lineBreakBefore(text: string, index: number): string {
  if (index >= 2 && text.slice(index - 2, index) === '\r\n') return '\r\n';
  return text[index - 1] === '\n' ? '\n' : '';
}
