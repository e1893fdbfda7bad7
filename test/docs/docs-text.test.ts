import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The docs are for users: they say what is true now, and the engineering history lives in
 * CHANGELOG.md. No reference to an issue number, and prose wrapped at about 100 columns (tables and
 * code blocks may be wider).
 */
const DOCS = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Lines of prose: outside code blocks, and not table rows unless `tables`. */
function proseLines(file: string, tables = false): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let code = false;
  for (const [i, text] of readFileSync(file, 'utf8').split('\n').entries()) {
    if (text.startsWith('```')) code = !code;
    else if (!code && (tables || !text.startsWith('|'))) out.push({ line: i + 1, text });
  }
  return out;
}

describe('the docs', () => {
  it('name no issue numbers', () => {
    const found = DOCS.flatMap((f) =>
      proseLines(f)
        .filter((l) => /\bissues? #?\d+|(^|[\s(])#\d+\b/i.test(l.text))
        .map((l) => `${f}:${l.line}: ${l.text}`),
    );
    expect(found).toEqual([]);
  });

  it('wrap prose at 100 columns (a line that is one link or code span may be longer)', () => {
    const long = DOCS.flatMap((f) =>
      proseLines(f)
        .filter((l) => l.text.length > 100 && /\s\S+\s/.test(l.text.replace(/`[^`]*`/g, 'code').trim()))
        .map((l) => `${f}:${l.line} (${l.text.length})`),
    );
    expect(long).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const broken = DOCS.flatMap((f) =>
      proseLines(f, true).flatMap((l) =>
        [...l.text.matchAll(/\]\(([^)\s]+)\)/g)]
          .map((m) => m[1] as string)
          .filter((href) => !/^[a-z]+:/.test(href))
          .filter((href) => !linkResolves(f, href))
          .map((href) => `${f}:${l.line}: ${href}`),
      ),
    );
    expect(broken).toEqual([]);
  });
});

/** GitHub's anchors of a Markdown file's headings. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let code = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) code = !code;
    const m = /^#{1,6} (.*)$/.exec(line);
    if (code || !m) continue;
    const base = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function linkResolves(from: string, href: string): boolean {
  const [target = '', anchor] = href.split('#');
  const file = target === '' ? from : path.join(path.dirname(from), target);
  if (!existsSync(file)) return false;
  return anchor === undefined || !file.endsWith('.md') || anchors(file).has(anchor);
}
