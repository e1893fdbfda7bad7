import { invalidRequest } from './errors.js';

/** A cursor page as OpenAI's list endpoints return it (`limit` and `after` query parameters). */
export function page<T extends { id: string }>(items: readonly T[], query: URLSearchParams, defaultLimit: number) {
  const limit = Number(query.get('limit') ?? defaultLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw invalidRequest("Invalid 'limit': expected an integer in 1..10000.", 'limit', 'invalid_value');
  }
  const after = query.get('after');
  const start = after === null ? 0 : items.findIndex((item) => item.id === after) + 1;
  const data = items.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < items.length,
  };
}
