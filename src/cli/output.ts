/** Human output for the CLI; `--json` prints the API's JSON unchanged for scripts. */
import { io } from './io.js';
export function print(value: unknown, json: boolean, columns: readonly string[] = LIST_COLUMNS): void {
  if (json) {
    io().stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  if (value && typeof value === 'object' && 'data' in value && Array.isArray((value as { data: unknown }).data)) {
    const { data, next_cursor } = value as { data: Record<string, unknown>[]; next_cursor?: string | null };
    io().stdout.write(table(data, columns));
    if (next_cursor) io().stdout.write(`\nmore: --cursor ${next_cursor}\n`);
    return;
  }
  if (value && typeof value === 'object') {
    io().stdout.write(record(value as Record<string, unknown>));
    return;
  }
  io().stdout.write(`${fmt(value)}\n`);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;

/**
 * One object as `key  value` rows, values in one column. A nested object (a token's or project's
 * `usage`) is its key on a row of its own and its fields as rows indented below it.
 */
export function record(obj: Record<string, unknown>, indent = ''): string {
  const entries = Object.entries(obj);
  const width = Math.max(...entries.flatMap(([k, v]) => [k.length, ...(isRecord(v) ? nestedWidths(v) : [])]));
  return rows(entries, width, indent);
}

const nestedWidths = (v: Record<string, unknown>): number[] =>
  Object.entries(v).flatMap(([k, x]) => [k.length + 2, ...(isRecord(x) ? nestedWidths(x).map((w) => w + 2) : [])]);

function rows(entries: [string, unknown][], width: number, indent: string): string {
  let out = '';
  for (const [k, v] of entries) {
    if (isRecord(v)) out += `${indent}${k}\n${rows(Object.entries(v), width - 2, `${indent}  `)}`;
    else out += `${indent}${k.padEnd(width)}  ${fmt(v)}\n`;
  }
  return out;
}

const LIST_COLUMNS = [
  'id',
  'name',
  'project_id',
  'status',
  'is_active',
  'token_hint',
  'api_key_hint',
  'base_url',
  'expires_at',
  'request_count',
  'max_requests',
];

/** Rows as aligned columns (those of `columns` that any row has); numbers are right-aligned. */
export function table(rows: Record<string, unknown>[], columns: readonly string[] = LIST_COLUMNS): string {
  if (rows.length === 0) return '(none)\n';
  const cols = columns.filter((c) => rows.some((r) => c in r));
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const numeric = cols.map((c) => rows.every((r) => isNumberLike(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (vals: string[]) =>
    `${vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd()}\n`;
  return line(cols) + cells.map(line).join('');
}

const isNumberLike = (v: unknown) =>
  v === null || v === undefined || typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v));

export function fmt(v: unknown): string {
  if (v === null || v === undefined) return '-';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
