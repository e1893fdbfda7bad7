/**
 * An audit event's changes in words: each field with its value before and after, where a value
 * that is not there (the whole object created or deleted, or one field added or dropped) is said
 * so, never shown as `undefined`. Pure functions: web/src/lib/changes.test.ts.
 */

/** What the API sends: the changed fields, `before` null on creation, `after` null on deletion. */
export interface Changes {
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** One field: its values as text, `undefined` where the field was not there (new, or removed). */
export interface ChangeLine {
  field: string;
  before: string | undefined;
  after: string | undefined;
}

/** A value as it reads: strings quoted, null as "none", lists and objects spelled out, no JSON braces. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map(valueText).join(', ');
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${valueText(x)}`)
      .join(', ');
  return String(v);
}

export function changeLines(c: Changes | null | undefined): ChangeLine[] {
  if (!c) return [];
  const before = c.before ?? undefined;
  const after = c.after ?? undefined;
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return fields.map((field) => ({
    field,
    before: before && field in before ? valueText(before[field]) : undefined,
    after: after && field in after ? valueText(after[field]) : undefined,
  }));
}

/**
 * The changes in one line: `name "a" → "b"` for an edit, the values for a creation, and
 * `removed: username "bob", …` for a deletion (a field dropped in an edit reads `x "a" removed`).
 */
export function changeSummary(c: Changes | null | undefined): string {
  const lines = changeLines(c);
  if (lines.length === 0) return '';
  if (!c?.after) return `removed: ${lines.map((l) => `${l.field} ${l.before}`).join(', ')}`;
  return lines
    .map((l) =>
      l.before === undefined
        ? `${l.field} ${l.after}`
        : l.after === undefined
          ? `${l.field} ${l.before} removed`
          : `${l.field} ${l.before} → ${l.after}`,
    )
    .join(', ');
}

/** Other facts of an event (`details`) in one line: `count 3, reason "expired"`. */
export const detailsSummary = (d: Record<string, unknown> | null | undefined): string => (d ? valueText(d) : '');
