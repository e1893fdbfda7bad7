import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** docs/README.md, the index of the docs by role, links every document in docs/. */
describe('docs/README.md', () => {
  it('links every document in docs/', () => {
    const index = readFileSync('docs/README.md', 'utf8');
    const linked = new Set([...index.matchAll(/\]\(([a-z0-9-]+\.md)(?:#[^)]*)?\)/g)].map((m) => m[1]));
    const docs = readdirSync('docs').filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(docs.filter((f) => !linked.has(f))).toEqual([]);
  });
});
