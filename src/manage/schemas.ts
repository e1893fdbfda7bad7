import { z } from 'zod';
import { isUuid } from '../crypto/ids.js';
import { endpointRuleProblem } from '../limits/allowlist.js';
import { decodeCursor } from '../store/pagination.js';

/** Schemas of the management API: they validate requests and generate the OpenAPI spec. */

const isoTime = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');
const nullableIso = isoTime.nullable();
const name = z.string().trim().min(1).max(200);
const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .describe('Upstream origin, e.g. https://api.openai.com (a trailing /v1 is removed)');

export const idParams = z.object({ id: z.string().min(1).max(200).describe('Resource id') });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .max(200)
    .refine((c) => isUuid(decodeCursor(c) ?? ''), 'not a cursor returned by this API')
    .optional()
    .describe('next_cursor of the previous page'),
});

export const errorBody = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      code: z.string(),
      param: z.string().nullable().optional(),
    }),
  })
  .describe('Error');

const perMinute = z.number().int().min(1).max(1e12).nullable();
const globList = z.array(z.string().trim().min(1).max(200)).max(100).nullable();

/** Limits settable on tokens and projects (the project's act as a ceiling over all its tokens). */
const limitInputs = {
  max_requests: z
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .nullable()
    .optional()
    .describe('Lifetime request cap; null for none'),
  requests_per_minute: perMinute
    .optional()
    .describe('Requests per minute (GCRA: bursts up to the limit); null for none'),
  tokens_per_minute: perMinute
    .optional()
    .describe('Tokens per minute, reserved from the request and settled on actual usage; null for none'),
  budget_usd: z
    .number()
    .min(0)
    .max(1e9)
    .multipleOf(0.000001)
    .nullable()
    .optional()
    .describe('Spending cap in US dollars; null for none'),
  budget_period: z
    .enum(['total', 'day', 'month'])
    .optional()
    .describe('Budget window: lifetime, UTC day or UTC month (default total)'),
  allowed_models: globList.optional().describe('Model globs such as "gpt-4o*"; null allows all'),
  allowed_endpoints: globList
    .refine((l) => l === null || l.every((r) => endpointRuleProblem(r) === undefined), {
      message: 'each rule is "METHOD /path-glob" or "/path-glob"',
    })
    .optional()
    .describe('Endpoint rules such as "POST /v1/chat/*" or "/v1/embeddings"; null allows all'),
};

const limitOutputs = {
  max_requests: z.number().int().nullable(),
  requests_per_minute: z.number().int().nullable(),
  tokens_per_minute: z.number().int().nullable(),
  budget_usd: z.number().nullable(),
  budget_period: z.enum(['total', 'day', 'month']),
  allowed_models: z.array(z.string()).nullable(),
  allowed_endpoints: z.array(z.string()).nullable(),
};

export const project = z
  .object({
    id: z.string(),
    name: z.string(),
    base_url: z.string().nullable(),
    is_active: z.boolean(),
    api_key_hint: z.string().describe('Masked upstream key, e.g. sk-…abcd; the key itself is never returned'),
    ...limitOutputs,
    request_count: z.number().int(),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .describe('Project');

export const createProject = z.strictObject({
  name,
  api_key: z.string().min(1).max(1000).describe('Real upstream API key; stored encrypted, never returned'),
  base_url: httpUrl.nullable().optional(),
  is_active: z.boolean().optional(),
  ...limitInputs,
});

export const updateProject = z.strictObject({
  name: name.optional(),
  api_key: z.string().min(1).max(1000).optional(),
  base_url: httpUrl.nullable().optional(),
  is_active: z.boolean().optional(),
  revoke_tokens: z.boolean().optional().describe('Also revoke every token of the project'),
  ...limitInputs,
});

export const token = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string().nullable(),
    token_hint: z.string().describe('Masked token, e.g. sk-llmp-…abcd'),
    is_active: z.boolean(),
    status: z.enum(['active', 'expired', 'revoked', 'exhausted']),
    expires_at: nullableIso,
    revoked_at: nullableIso,
    ...limitOutputs,
    request_count: z.number().int(),
    last_used_at: nullableIso,
    created_at: isoTime,
    updated_at: isoTime,
  })
  .describe('Token');

export const createdToken = token.extend({
  token: z.string().describe('The plaintext token. Shown only in this response: store it now.'),
});

const durationMinutes = z
  .number()
  .int()
  .min(1)
  .max(60 * 24 * 3650)
  .describe('Lifetime from now, in minutes');
export const createToken = z.strictObject({
  project_id: z.string().min(1),
  name: z.string().trim().max(200).nullable().optional(),
  duration_minutes: durationMinutes.optional(),
  expires_at: isoTime.optional().describe('Absolute expiry; omit both this and duration_minutes for no expiry'),
  ...limitInputs,
});

export const updateToken = z.strictObject({
  name: z.string().trim().max(200).nullable().optional(),
  is_active: z.boolean().optional(),
  duration_minutes: durationMinutes.optional().describe('New lifetime from now'),
  expires_at: nullableIso.optional().describe('New absolute expiry; null for no expiry'),
  ...limitInputs,
});

export const tokenListQuery = pageQuery.extend({
  project_id: z.string().optional(),
  active: z.enum(['true', 'false']).optional().describe('Filter on is_active'),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

export const revokeResult = z.object({ revoked: z.number().int() });

export const emptyBody = z.null().describe('No content');
