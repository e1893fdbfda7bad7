import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';

/**
 * docs/troubleshooting.md has an entry for every code of the error catalogue, and names no other:
 * a `### \`code\`` heading under "## Error codes" whose text starts with the code's status and
 * gives a cause and a **Fix:**.
 */

const doc = readFileSync('docs/troubleshooting.md', 'utf8');
const section = /^## Error codes\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? '';
const entries = new Map(
  [...section.matchAll(/^### `([a-z_]+)`\n\n([\s\S]*?)(?=^### |(?![\s\S]))/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]),
);

describe('docs/troubleshooting.md', () => {
  it('has an "## Error codes" section', () => {
    expect(section.length).toBeGreaterThan(0);
  });

  it('has an entry for every code of the catalogue', () => {
    expect(Object.keys(ERROR_CODES).filter((c) => !entries.has(c))).toEqual([]);
  });

  it('names only codes of the catalogue', () => {
    expect([...entries.keys()].filter((c) => !(c in ERROR_CODES))).toEqual([]);
    const headings = [...section.matchAll(/^### (.*)$/gm)].map((m) => m[1] as string);
    expect(headings.length).toBe(entries.size);
  });

  it('gives each entry its status, and a fix', () => {
    const wrong = [...entries].flatMap(([code, text]) => {
      const status = ERROR_CODES[code as ErrorCode]?.status;
      const problems: string[] = [];
      if (!new RegExp(`^\\*\\*${status}\\b`).test(text))
        problems.push(`${code}: does not start with its status, ${status}`);
      if (!text.includes('**Fix:**')) problems.push(`${code}: no **Fix:**`);
      return problems;
    });
    expect(wrong).toEqual([]);
  });
});
