import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, diff, listedIds, MAX_LISTED_IDS } from './audit-event.js';

describe('audit events', () => {
  it('are each documented in docs/observability.md, and nothing else is', () => {
    const doc = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');
    const section = /^## Audit trail\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z_]+\.[a-z_]+)` +\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('diff keeps only the fields that changed, arrays compared by value', () => {
    expect(
      diff({ name: 'a', models: ['x'], limit: null, same: 1 }, { name: 'b', models: ['x'], limit: 5, same: 1 }),
    ).toEqual({ before: { name: 'a', limit: null }, after: { name: 'b', limit: 5 } });
    expect(diff({ a: [1, 2] }, { a: [1, 2] })).toBeUndefined();
  });

  it('lists at most MAX_LISTED_IDS ids and says when it cut', () => {
    const ids = Array.from({ length: MAX_LISTED_IDS + 5 }, (_, i) => `id-${i}`);
    const listed = listedIds('token_ids', ids);
    expect(listed.token_ids).toHaveLength(MAX_LISTED_IDS);
    expect(listed.token_ids_truncated).toBe(true);
    expect(listedIds('token_ids', ['a'])).toEqual({ token_ids: ['a'] });
  });
});
