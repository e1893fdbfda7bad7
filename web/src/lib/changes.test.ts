import { describe, expect, it } from 'vitest';
import { changeLines, changeSummary, detailsSummary, valueText } from './changes';

describe('audit changes in words', () => {
  it('says a deletion removed the fields, never "undefined"', () => {
    const deleted = { before: { username: 'bob', role: 'viewer', disabled: false }, after: null };
    expect(changeSummary(deleted)).toBe('removed: username "bob", role "viewer", disabled false');
    expect(changeLines(deleted)).toEqual([
      { field: 'username', before: '"bob"', after: undefined },
      { field: 'role', before: '"viewer"', after: undefined },
      { field: 'disabled', before: 'false', after: undefined },
    ]);
    const unset = { before: { input: 0.2, cached_input: null, output: 0.6, reasoning: null }, after: null };
    expect(changeSummary(unset)).toBe('removed: input 0.2, cached_input none, output 0.6, reasoning none');
  });

  it('says creations, edits and a field dropped from an edit', () => {
    expect(changeSummary({ before: null, after: { name: 'web', base_url: null } })).toBe('name "web", base_url none');
    expect(changeSummary({ before: { name: 'a', budget_usd: 5 }, after: { name: 'b', budget_usd: null } })).toBe(
      'name "a" → "b", budget_usd 5 → none',
    );
    expect(changeSummary({ before: { note: 'x' }, after: {} })).toBe('note "x" removed');
    expect(changeSummary(null)).toBe('');
    expect(changeSummary({ before: null, after: null })).toBe('');
  });

  it('spells out lists and objects without JSON braces', () => {
    expect(valueText(['gpt-4o', 'o3'])).toBe('"gpt-4o", "o3"');
    expect(valueText([])).toBe('none');
    expect(detailsSummary({ revoked: 3, filter: { project_id: 'p1', name_prefix: 'ws-' } })).toBe(
      'revoked 3, filter project_id "p1", name_prefix "ws-"',
    );
    expect(detailsSummary(null)).toBe('');
  });
});
