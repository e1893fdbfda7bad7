import { type Expression, type RawBuilder, sql } from 'kysely';

/**
 * `column` contains `text`, ignoring case, with `%`, `_` and `\` in the text matching themselves.
 * LIKE with an explicit ESCAPE works the same in SQLite and PostgreSQL; lower() on both sides makes
 * PostgreSQL's case-sensitive LIKE match as SQLite's does (for ASCII; SQLite's lower() leaves other
 * letters as they are, so both compare non-ASCII letters exactly). NULL never matches.
 */
export function containsIgnoringCase(column: Expression<unknown>, text: string): RawBuilder<boolean> {
  const escaped = text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<boolean>`lower(${column}) like ${`%${escaped}%`} escape '\\'`;
}
