/**
 * Client-side checks with the management API's own rules: the same functions the API's schemas call
 * (imported from the server's source, so the two cannot drift) and the same bounds as
 * src/manage/schemas.ts. The API still checks everything; this only says what is wrong before a round trip.
 */
import { upstreamUrlProblem } from '../../../src/config/upstream-url.js';
import { endpointRuleProblem } from '../../../src/limits/allowlist.js';
import { MAX_KEY_WEIGHT, upstreamKeyProblem } from '../../../src/projects/upstream-key.js';

export type Problem = string | undefined;

/** A project's name, or an upstream key's (the same rule). */
export function projectName(v: string): Problem {
  const t = v.trim();
  if (t.length === 0) return 'A name is required.';
  if (t.length > 200) return 'At most 200 characters.';
  return undefined;
}

export function apiKey(v: string, required: boolean): Problem {
  if (v === '') return required ? 'The upstream API key is required.' : undefined;
  if (v.length > 1000) return 'At most 1000 characters.';
  const p = upstreamKeyProblem(v);
  return p ? `The key ${p}.` : undefined;
}

export function baseUrl(v: string): Problem {
  if (v.trim() === '') return undefined;
  if (v.length > 2000) return 'At most 2000 characters.';
  const p = upstreamUrlProblem(v.trim());
  return p ? `The URL ${p}.` : undefined;
}

/** An upstream key's weight: its share of the project's requests, 1 to MAX_KEY_WEIGHT. */
export function keyWeight(v: string): Problem {
  if (v.trim() === '') return 'A weight is required.';
  return positiveInt(v, MAX_KEY_WEIGHT);
}

export function tokenName(v: string): Problem {
  return v.trim().length > 200 ? 'At most 200 characters.' : undefined;
}

/** An optional positive whole number up to `max` (empty means "none"). */
export function positiveInt(v: string, max = Number.MAX_SAFE_INTEGER): Problem {
  if (v.trim() === '') return undefined;
  if (!/^\d+$/.test(v.trim())) return 'A whole number, 1 or more.';
  const n = Number(v);
  if (n < 1) return 'At least 1.';
  if (n > max) return `At most ${max.toLocaleString('en-US')}.`;
  return undefined;
}

/** Dollars with at most nine decimals, 0 to 9,000,000 (the API's budget_usd). */
export function budget(v: string): Problem {
  if (v.trim() === '') return undefined;
  if (!/^\d+(\.\d{1,9})?$/.test(v.trim())) return 'An amount in dollars, up to nine decimals (e.g. 25 or 0.50).';
  if (Number(v) > 9e6) return 'At most 9,000,000.';
  return undefined;
}

/** A price in USD per 1M tokens, 0 to 1,000,000 (the API's pricing rule). */
export function price(v: string, required: boolean): Problem {
  if (v.trim() === '') return required ? 'Required.' : undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^\d*\.?\d+$/.test(v.trim())) return 'A number, e.g. 2.5.';
  if (n > 1_000_000) return 'At most 1,000,000.';
  return undefined;
}

export function modelName(v: string): Problem {
  if (v === '') return 'A model name is required.';
  if (v.length > 200) return 'At most 200 characters.';
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/.test(v)) return 'Letters, digits and . _ : @ + - only.';
  return undefined;
}

/** Comma- or newline-separated globs; each 1–200 characters, at most 100. */
export function globList(v: string, endpoints: boolean): Problem {
  const items = listItems(v);
  if (items.length > 100) return 'At most 100 entries.';
  for (const it of items) {
    if (it.length > 200) return `"${it.slice(0, 20)}…" is longer than 200 characters.`;
    if (endpoints) {
      const p = endpointRuleProblem(it);
      if (p) return `${p}.`;
    }
  }
  return undefined;
}

export const listItems = (v: string): string[] =>
  v
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** A duration in minutes for a new token: 1 minute to 10 years. */
export function durationMinutes(v: string): Problem {
  return positiveInt(v, 60 * 24 * 3650);
}

export function batchCount(v: string): Problem {
  if (v.trim() === '') return 'How many tokens?';
  return positiveInt(v, 1000);
}

export const firstProblem = (problems: Record<string, Problem>): boolean =>
  Object.values(problems).some((p) => p !== undefined);
