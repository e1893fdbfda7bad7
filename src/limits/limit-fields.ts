import type { BudgetPeriod } from './limits.js';

/** The limit fields as the API shows and takes them (budget in dollars, lists as arrays). */
export interface LimitFields {
  max_requests: number | null;
  requests_per_minute: number | null;
  max_concurrent: number | null;
  tokens_per_minute: number | null;
  budget_usd: number | null;
  budget_period: BudgetPeriod;
  allowed_models: string[] | null;
  allowed_endpoints: string[] | null;
}

/** Limit fields in a create or update request: any subset, null clearing a limit. */
export type LimitInput = { [K in keyof LimitFields]?: LimitFields[K] | undefined };

/** The columns of a new token or project before its requested limits are applied: no limits. */
export const NO_LIMITS = {
  max_requests: null,
  requests_per_minute: null,
  max_concurrent: null,
  tokens_per_minute: null,
  budget_nano_usd: null,
  allowed_models: null,
  allowed_endpoints: null,
} as const;

/** The limit columns of a token or project row as selected. */
export interface LimitRow {
  max_requests: number | null;
  requests_per_minute: number | null;
  max_concurrent: number | null;
  tokens_per_minute: number | null;
  budget_nano_usd: number | null;
  budget_period: string;
  allowed_models: string | null;
  allowed_endpoints: string | null;
}

/** Stored columns → API fields. */
export function limitFields(row: LimitRow): LimitFields {
  return {
    max_requests: row.max_requests,
    requests_per_minute: row.requests_per_minute,
    max_concurrent: row.max_concurrent,
    tokens_per_minute: row.tokens_per_minute,
    budget_usd: row.budget_nano_usd === null ? null : row.budget_nano_usd / 1e9,
    budget_period: row.budget_period as BudgetPeriod,
    allowed_models: row.allowed_models === null ? null : (JSON.parse(row.allowed_models) as string[]),
    allowed_endpoints: row.allowed_endpoints === null ? null : (JSON.parse(row.allowed_endpoints) as string[]),
  };
}

/** API fields given in a create or update → the columns to write (absent fields untouched). */
export function limitColumns(input: LimitInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.max_requests !== undefined) out.max_requests = input.max_requests;
  if (input.requests_per_minute !== undefined) out.requests_per_minute = input.requests_per_minute;
  if (input.max_concurrent !== undefined) out.max_concurrent = input.max_concurrent;
  if (input.tokens_per_minute !== undefined) out.tokens_per_minute = input.tokens_per_minute;
  if (input.budget_usd !== undefined) {
    out.budget_nano_usd = input.budget_usd === null ? null : Math.round(input.budget_usd * 1e9);
  }
  if (input.budget_period !== undefined) out.budget_period = input.budget_period;
  if (input.allowed_models !== undefined) {
    out.allowed_models = input.allowed_models === null ? null : JSON.stringify(input.allowed_models);
  }
  if (input.allowed_endpoints !== undefined) {
    out.allowed_endpoints = input.allowed_endpoints === null ? null : JSON.stringify(input.allowed_endpoints);
  }
  return out;
}
