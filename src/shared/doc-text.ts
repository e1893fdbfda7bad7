/**
 * Text helpers for the generated parts of the docs (scripts/gen-docs.mjs): wrapping prose, and
 * reading or replacing a marked section of a file.
 */

/** Words of a paragraph, with inline code spans kept whole (their spaces are not break points). */
function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let code = false;
  for (const ch of text.replace(/\s+/g, ' ').trim()) {
    if (ch === '`') code = !code;
    if (ch === ' ' && !code) {
      if (word) out.push(word);
      word = '';
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

/**
 * Wraps a paragraph to `width` columns: the first line starts with `first`, the others with
 * `rest`. A word longer than a line gets a line of its own.
 */
export function wrap(text: string, width: number, first = '', rest = first): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of words(text)) {
    if (!empty && line.length + 1 + w.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? w : ` ${w}`;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

const begin = (name: string, comment: CommentStyle) => comment(`generated: ${name} (npm run docs; do not edit)`);
const end = (name: string, comment: CommentStyle) => comment(`end of generated: ${name}`);

export type CommentStyle = (text: string) => string;
export const markdownComment: CommentStyle = (text) => `<!-- ${text} -->`;

/** The text between the markers of section `name`, or undefined when the file has none. */
export function markedSection(doc: string, name: string, comment: CommentStyle = markdownComment): string | undefined {
  const a = doc.indexOf(begin(name, comment));
  const b = doc.indexOf(end(name, comment));
  if (a < 0 || b < a) return undefined;
  return doc
    .slice(a + begin(name, comment).length, b)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

/** `doc` with section `name` replaced by `body` (the markers stay); throws when the markers are missing. */
export function replaceSection(
  doc: string,
  name: string,
  body: string,
  comment: CommentStyle = markdownComment,
): string {
  const a = doc.indexOf(begin(name, comment));
  const b = doc.indexOf(end(name, comment));
  if (a < 0 || b < a)
    throw new Error(`no generated section "${name}" (markers ${begin(name, comment)} … ${end(name, comment)})`);
  return `${doc.slice(0, a + begin(name, comment).length)}\n${body}\n${doc.slice(b)}`;
}
