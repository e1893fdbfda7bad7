/** Opaque list cursors: the sort key of the last row of the previous page (its id), base64url-encoded. */
export interface Page<T> {
  rows: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** Callers fetch limit + 1 rows; the extra row only tells whether another page exists. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  return toPageBy(rows, limit, (r) => r.id);
}

/** `toPage` for lists sorted by another key than the id (`key` gives the cursor's text). */
export function toPageBy<T>(rows: T[], limit: number, key: (row: T) => string): Page<T> {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: Buffer.from(key(page[page.length - 1] as T), 'utf8').toString('base64url') };
}
