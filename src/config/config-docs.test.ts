import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from './schema.js';

/** A setting that exists is documented, and one that is documented exists: the README's table against the schema. */
describe('the README configuration table', () => {
  it('lists every setting of the schema, and no other', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
    const settings = Object.keys(configSchema.shape);
    expect(settings.filter((k) => !documented.includes(k))).toEqual([]);
    // The rest are read by load.ts itself (the one reader of process.env), outside the schema.
    const loader = readFileSync(new URL('./load.ts', import.meta.url), 'utf8');
    expect(documented.filter((k) => !settings.includes(k as string) && !new RegExp(`\\b${k}\\b`).test(loader))).toEqual(
      [],
    );
  });
});
