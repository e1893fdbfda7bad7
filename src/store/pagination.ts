/** Opaque list cursors: the last id of the previous page, base64url-encoded. */
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
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1] as T;
  return { rows: page, nextCursor: Buffer.from(last.id, 'utf8').toString('base64url') };
}
