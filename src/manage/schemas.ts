import { z } from 'zod';
import { upstreamUrlProblem } from '../config/upstream-url.js';
import { isUuid } from '../crypto/ids.js';
import { endpointRuleProblem, MAX_GLOB_LENGTH, MAX_GLOBS } from '../limits/allowlist.js';
import { AUTH_STYLES, MAX_KEY_WEIGHT, upstreamKeyProblem } from '../projects/upstream-key.js';
import { decodeCursor } from '../store/pagination.js';
import { decodeSortCursor } from '../store/tokens-repo.js';
import { recordsCursor } from '../usage/usage-stats.js';

/** Schemas of the management API: they validate requests and generate the OpenAPI spec. */

const isoTime = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');
const nullableIso = isoTime.nullable();
const name = z.string().trim().min(1).max(200);
const httpUrl = z
  .string()
  .max(2000)
  .superRefine((v, ctx) => {
    const problem = upstreamUrlProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'Upstream origin, e.g. https://api.openai.com (a trailing /v1 is removed); no credentials, query, fragment, whitespace, control characters or backslashes',
  );
/** An upstream key as it will be sent (`Bearer <key>`): checked here so a key that cannot work is never stored. */
const upstreamKey = z
  .string()
  .min(1)
  .max(1000)
  .superRefine((v, ctx) => {
    const problem = upstreamKeyProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const isoTimeRe = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 3339 or epoch milliseconds, as epoch ms. */
const timeParam = z
  .string()
  .max(64)
  .transform((v, ctx) => {
    const ms = /^\d{1,16}$/.test(v) ? Number(v) : isoTimeRe.test(v) ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected an RFC 3339 time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

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
/** Bounded so that matching a request stays within a stated cost (limits/allowlist.ts). */
const globList = z
  .array(
    z
      .string()
      .trim()
      .min(1)
      .max(MAX_GLOB_LENGTH, { error: `each entry is at most ${MAX_GLOB_LENGTH} characters` }),
  )
  .max(MAX_GLOBS, { error: `at most ${MAX_GLOBS} entries` })
  .nullable();

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
  max_concurrent: z
    .number()
    .int()
    .min(1)
    .max(1e6)
    .nullable()
    .optional()
    .describe(
      'Requests in flight at once (streams included); one more gets 429 concurrency_limit_exceeded; null for none',
    ),
  tokens_per_minute: perMinute
    .optional()
    .describe('Tokens per minute, reserved from the request and settled on actual usage; null for none'),
  budget_usd: z
    .number()
    .min(0)
    // Held in integer nano-dollars, which stay exact below 2^53 (about $9.007 million).
    .max(9e6)
    .multipleOf(0.000000001)
    .nullable()
    .optional()
    .describe('Spending cap in US dollars (up to nine decimals, at most 9,000,000); null for none'),
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
  max_concurrent: z.number().int().nullable(),
  tokens_per_minute: z.number().int().nullable(),
  budget_usd: z.number().nullable(),
  budget_period: z.enum(['total', 'day', 'month']),
  allowed_models: z.array(z.string()).nullable(),
  allowed_endpoints: z.array(z.string()).nullable(),
};

const cacheTtlSeconds = z
  .number()
  .int()
  .min(1)
  .max(31_536_000)
  .nullable()
  .optional()
  .describe(
    "Seconds the response cache keeps the project's answers to cacheable requests (capped by CACHE_MAX_TTL_SECONDS); null: not cached unless a request asks with Cache-Control: max-age",
  );

export const cachePurgeResult = z
  .object({ purged: z.number().int().describe('Entries removed') })
  .describe('Cache purge');

export const project = z
  .object({
    id: z.string(),
    name: z.string(),
    base_url: z.string().nullable(),
    is_active: z.boolean(),
    retry_server_errors: z
      .boolean()
      .describe('5xx answers and upstream timeouts are retried without an Idempotency-Key (resilience.md)'),
    cache_ttl_seconds: z.number().int().nullable(),
    api_key_hint: z.string().describe('Masked upstream key, e.g. sk-…abcd; the key itself is never returned'),
    ...limitOutputs,
    request_count: z.number().int(),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .describe('Project');

export const createProject = z.strictObject({
  name,
  api_key: upstreamKey.describe(
    'Real upstream API key; stored encrypted, never returned. Visible ASCII or Latin-1 characters, no surrounding spaces',
  ),
  base_url: httpUrl.nullable().optional(),
  is_active: z.boolean().optional(),
  retry_server_errors: z
    .boolean()
    .optional()
    .describe(
      'Retry a 5xx answer or an upstream timeout (the upstream may have run the request) on another key, or after a backoff, even without an Idempotency-Key; default false. 429s and failed connections are retried regardless',
    ),
  cache_ttl_seconds: cacheTtlSeconds,
  ...limitInputs,
});

export const updateProject = z.strictObject({
  name: name.optional(),
  api_key: upstreamKey.optional().describe('New upstream API key (same rules as on create)'),
  base_url: httpUrl.nullable().optional(),
  is_active: z.boolean().optional(),
  retry_server_errors: z
    .boolean()
    .optional()
    .describe(
      'Retry a 5xx answer or an upstream timeout (the upstream may have run the request) on another key, or after a backoff, even without an Idempotency-Key; default false. 429s and failed connections are retried regardless',
    ),
  revoke_tokens: z.boolean().optional().describe('Also revoke every token of the project'),
  cache_ttl_seconds: cacheTtlSeconds,
  ...limitInputs,
});

export const projectKey = z
  .object({
    id: z.string(),
    project_id: z.string(),
    name: z.string(),
    api_key_hint: z.string().describe('Masked upstream key, e.g. sk-…abcd; the key itself is never returned'),
    base_url: z.string().nullable().describe("Upstream base URL; null: the project's, else the proxy's default"),
    auth_style: z.enum(AUTH_STYLES),
    weight: z.number().int(),
    enabled: z.boolean(),
    http2: z.boolean().describe("HTTP/2 is offered to the key's upstream (HTTP/1.1 where the server does not take it)"),
    cooldowns: z
      .array(
        z.object({
          model: z.string().nullable().describe('The model it cools for; null: every model'),
          state: z
            .enum(['cooling', 'half_open'])
            .describe('cooling: skipped until `until`; half_open: the next request is its trial'),
          until: isoTime,
        }),
      )
      .describe('Where the key is out of service after failures, as this instance sees it; empty when healthy'),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .describe('Upstream key of a project');

const keyInputs = {
  base_url: httpUrl
    .nullable()
    .optional()
    .describe(
      "Upstream base URL for this key (OpenAI, Azure OpenAI's v1 endpoint, any OpenAI-compatible server); null or absent: the project's base_url, else the proxy's default",
    ),
  auth_style: z
    .enum(AUTH_STYLES)
    .optional()
    .describe(
      'How the key is sent: bearer (Authorization: Bearer <key>, the default) or api-key (api-key: <key>, Azure)',
    ),
  weight: z
    .number()
    .int()
    .min(1)
    .max(MAX_KEY_WEIGHT)
    .optional()
    .describe(`Share of requests relative to the project's other enabled keys (1 to ${MAX_KEY_WEIGHT}, default 1)`),
  enabled: z.boolean().optional().describe('Disabled keys are kept but not used (default true)'),
  http2: z
    .boolean()
    .optional()
    .describe(
      "Offer HTTP/2 to the key's upstream over TLS (default false); HTTP/1.1 where its server does not offer h2",
    ),
};

export const createProjectKey = z.strictObject({
  name: name.describe('Unique within the project'),
  api_key: upstreamKey.describe(
    'Real upstream API key; stored encrypted, never returned. Visible ASCII or Latin-1 characters, no surrounding spaces',
  ),
  ...keyInputs,
});

export const updateProjectKey = z.strictObject({
  name: name.optional(),
  api_key: upstreamKey.optional().describe('New upstream API key (rotation; same rules as on create)'),
  ...keyInputs,
});

export const projectKeyParams = z.object({
  id: z.string().min(1).max(200).describe('Project id'),
  key_id: z.string().min(1).max(200).describe('Key id'),
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

/** Text a list's names must contain (ignoring case). */
const nameContains = z.string().trim().min(1).max(200).optional().describe('Names containing this text, ignoring case');

export const projectListQuery = pageQuery.extend({ name: nameContains });

const TOKEN_SORTS = ['created', 'name', 'expires_at', 'last_used_at', 'request_count'] as const;

export const tokenListQuery = pageQuery.extend({
  cursor: z
    .string()
    .max(600)
    .refine((c) => {
      const id = decodeCursor(c) ?? '';
      return isUuid(id) || decodeSortCursor(c) !== undefined;
    }, 'not a cursor returned by this API')
    .optional()
    .describe('next_cursor of the previous page (with the same sort and order)'),
  project_id: z.string().optional(),
  active: z.enum(['true', 'false']).optional().describe('Filter on is_active'),
  status: z.enum(['active', 'expired', 'revoked', 'exhausted']).optional().describe('Only tokens with this status now'),
  expires_before: timeParam
    .optional()
    .describe('Only tokens expiring before this time (RFC 3339 or epoch ms), e.g. now + 7 days for "expiring soon"'),
  name: nameContains,
  sort: z
    .enum(TOKEN_SORTS)
    .default('created')
    .describe(
      'created (the default, creation order), name, expires_at (no expiry last), last_used_at (never used first), request_count',
    ),
  order: z.enum(['asc', 'desc']).default('asc'),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

export const revokeResult = z.object({ revoked: z.number().int() });

export const emptyBody = z.null().describe('No content');

// Usage statistics

const jobId = z
  .string()
  .min(1)
  .max(200)
  .describe('A batch id (batch_…) or background response id (resp_…) as the upstream named it');

export const usageQuery = z
  .object({
    project_id: z.string().min(1).max(200).optional(),
    token_id: z.string().min(1).max(200).optional(),
    model: z.string().max(200).optional().describe('Exact model name as recorded; empty for requests without one'),
    from: timeParam.optional().describe('Start, RFC 3339 or epoch ms; rounded down to the hour (rollups are hourly)'),
    to: timeParam.optional().describe('End (exclusive), RFC 3339 or epoch ms; rounded up to the hour'),
    group_by: z.enum(['hour', 'day', 'model', 'token', 'project']).optional().describe('day = UTC days'),
    format: z.enum(['json', 'csv']).optional().describe('csv: same as Accept: text/csv'),
    job_id: jobId
      .optional()
      .describe(
        "Only this batch's or background response's records, summed from the records (group_by: model or none; no latency percentiles)",
      ),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe('With group_by=model, token or project: only the first N groups (top N by cost); totals cover all'),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.to > q.from, {
    message: 'to must be after from',
    path: ['to'],
  })
  .refine((q) => q.limit === undefined || ['model', 'token', 'project'].includes(q.group_by ?? ''), {
    message: 'limit applies only with group_by=model, token or project',
    path: ['limit'],
  })
  .refine((q) => q.job_id === undefined || q.group_by === undefined || q.group_by === 'model', {
    message: 'with job_id, group_by can only be model',
    path: ['group_by'],
  });

export const usageTotals = z
  .object({
    requests: z.number().int(),
    errors: z.number().int().describe('Requests answered with status >= 400 or ended by an error'),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
    cached_tokens: z.number().int(),
    reasoning_tokens: z.number().int(),
    cost_usd: z.string().describe('Exact decimal US dollars (nine decimals) of the priced requests'),
    cost_nano_usd: z.number().int().describe('The same cost in integer nano-dollars (1e-9 USD): exact'),
    cost_micro_usd: z
      .number()
      .int()
      .describe('The same cost rounded to integer micro-dollars; kept for clients of earlier versions'),
    unpriced_requests: z
      .number()
      .int()
      .describe(
        'Requests that used a model without a price: their cost is unknown, not counted (failed requests without usage and /v1/models are not unpriced)',
      ),
    estimated_requests: z.number().int().describe('Requests with usage estimated by the proxy (stream cut short)'),
    avg_duration_ms: z.number().nullable(),
    bytes_in: z.number().int(),
    bytes_out: z.number().int(),
  })
  .describe('UsageTotals');

export const latencyPercentiles = z
  .object({ p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable() })
  .describe('Latency percentiles in ms: upper bound of the histogram bucket each falls in');

export const usageGroup = z
  .object({
    hour: isoTime.optional().describe('group_by=hour: start of the hour'),
    day: z.string().optional().describe('group_by=day: UTC date, YYYY-MM-DD'),
    model: z.string().nullable().optional().describe('group_by=model; null for requests without a model'),
    token_id: z.string().optional().describe('group_by=token'),
    token_name: z.string().nullable().optional(),
    project_id: z.string().optional().describe('group_by=token or project'),
    project_name: z.string().nullable().optional(),
    ...usageTotals.shape,
    latency_ms: latencyPercentiles,
  })
  .describe('UsageGroup');

export const usageReport = z
  .object({
    from: nullableIso.describe('Start of the window covered (rounded down to the hour)'),
    to: nullableIso.describe('End of the window covered, exclusive (rounded up to the hour)'),
    group_by: z.enum(['hour', 'day', 'model', 'token', 'project']).nullable(),
    data: z.array(usageGroup),
    totals: usageTotals,
    latency_ms: latencyPercentiles,
  })
  .describe('UsageReport');

export const usageRecordQuery = z.object({
  wait_ms: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(0)
    .describe('Wait up to this long for a record not written yet (a request that just ended); 0 answers at once'),
});

export const usageRecord = z
  .object({
    id: z.string().describe('The request id: the x-llm-proxy-request-id header of the proxied response'),
    token_id: z.string(),
    token_name: z.string().nullable().describe('null when unnamed or deleted'),
    project_id: z.string(),
    project_name: z.string().nullable().describe('null when the project was deleted'),
    method: z.string(),
    path: z.string(),
    model: z.string().nullable(),
    status: z.number().int().describe("The client's status: the upstream's, the proxy's 502/504, or 499"),
    stream: z.boolean(),
    prompt_tokens: z.number().int().nullable(),
    completion_tokens: z.number().int().nullable(),
    total_tokens: z.number().int().nullable(),
    cached_tokens: z.number().int().nullable(),
    reasoning_tokens: z.number().int().nullable(),
    finish_reason: z.string().nullable(),
    upstream_key_id: z
      .string()
      .nullable()
      .describe(
        "The project's upstream key the request was sent with (GET /manage/projects/{id}/keys); null when none was",
      ),
    retries: z
      .number()
      .int()
      .describe(
        'Times the request was sent upstream again after a failed attempt (another key, or a backoff); 0 when sent once',
      ),
    served_from: z
      .enum(['cache', 'idempotent_replay'])
      .nullable()
      .describe(
        'Where the answer came from: null the upstream, cache the response cache, idempotent_replay the stored answer to an earlier request with the same Idempotency-Key',
      ),
    service_tier: z
      .string()
      .nullable()
      .describe('The service tier the upstream reported (default, flex, priority…); null when it reported none'),
    billed_units: z
      .record(z.string(), z.union([z.number(), z.string()]))
      .nullable()
      .describe(
        'What the request was billed by besides text tokens: images (with size and quality), seconds of audio, characters of speech, tool calls (web_search, file_search, code_interpreter) and audio and image tokens; null when none',
      ),
    upstream_request_id: z
      .string()
      .nullable()
      .describe(
        "The upstream's id of its answer, to find the request in the provider's logs: its x-request-id (apim-request-id from Azure OpenAI), or a realtime response's id; null when none came",
      ),
    cost_usd: z
      .string()
      .nullable()
      .describe('Exact decimal US dollars; null without a cost (no price for the model, or nothing used)'),
    cost_nano_usd: z.number().int().nullable().describe('The same cost in integer nano-dollars (1e-9 USD)'),
    cost_micro_usd: z
      .number()
      .int()
      .nullable()
      .describe('The same cost rounded to integer micro-dollars; kept for clients of earlier versions'),
    usage_status: z.string().describe('reported, estimated, missing or unfinished'),
    error: z.string().nullable().describe('Why the exchange failed or was cut, as an error code'),
    duration_ms: z.number(),
    upstream_ms: z.number().nullable(),
    ttfb_ms: z.number().nullable(),
    bytes_in: z.number().int(),
    bytes_out: z.number().int(),
    created_at: isoTime,
    job_id: z
      .string()
      .nullable()
      .describe(
        'The batch (batch_…) or background response (resp_…) this record accounts for; null for an ordinary request',
      ),
  })
  .describe('UsageRecord');

export const usageRecordsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z
      .string()
      .max(600)
      .refine((c) => recordsCursor(c) !== undefined, 'not a cursor returned by this API')
      .optional()
      .describe('next_cursor of the previous page'),
    token_id: z.string().min(1).max(200).optional(),
    project_id: z.string().min(1).max(200).optional(),
    job_id: jobId.optional().describe("Only this batch's or background response's records"),
    kind: z
      .enum(['request', 'job'])
      .optional()
      .describe('request: only ordinary requests; job: only records of batches and background responses'),
  })
  .refine((q) => q.job_id === undefined || q.kind !== 'request', {
    message: 'job_id selects job records: kind=request matches none',
    path: ['kind'],
  });

export const usageRecordsPage = listOf(usageRecord).describe('UsageRecordsPage');

export const usageOverviewQuery = z
  .object({
    from: timeParam.describe('Start, RFC 3339 or epoch ms; rounded down to the hour'),
    to: timeParam.optional().describe('End (exclusive), RFC 3339 or epoch ms, rounded up to the hour; default now'),
    bucket: z
      .enum(['hour', 'day'])
      .optional()
      .describe('Series resolution; default hour for windows up to 7 days, else day (UTC days)'),
    top: z.coerce.number().int().min(1).max(100).default(5).describe('How many projects, tokens and models to rank'),
    project_id: z.string().min(1).max(200).optional().describe('Only this project'),
  })
  .refine((q) => q.to === undefined || q.to > q.from, { message: 'to must be after from', path: ['to'] });

const rankedTotals = <T extends z.ZodRawShape>(fields: T) => z.object({ ...fields, ...usageTotals.shape });

export const usageOverview = z
  .object({
    from: isoTime.describe('Start of the window covered (rounded down to the hour)'),
    to: isoTime.describe('End of the window covered, exclusive (rounded up to the hour)'),
    bucket: z.enum(['hour', 'day']),
    series: z
      .array(rankedTotals({ start: isoTime.describe('Start of the hour or UTC day') }))
      .describe('Buckets with traffic, oldest first; buckets without traffic are absent'),
    totals: usageTotals,
    latency_ms: latencyPercentiles,
    top: z.object({
      projects: z.array(rankedTotals({ project_id: z.string(), project_name: z.string().nullable() })),
      tokens: z.array(
        rankedTotals({
          token_id: z.string(),
          token_name: z.string().nullable(),
          project_id: z.string(),
          project_name: z.string().nullable(),
        }),
      ),
      models: z.array(rankedTotals({ model: z.string().nullable() })),
    }),
  })
  .describe('UsageOverview');

export const tokenWithUsage = token
  .extend({ usage: usageTotals.describe('Lifetime usage, from the rollups') })
  .describe('Token with usage');
export const projectWithUsage = project
  .extend({ usage: usageTotals.describe('Lifetime usage, from the rollups') })
  .describe('Project with usage');

// Pricing

const price = z.number().min(0).max(1_000_000);
export const modelParams = z.object({
  model: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/, 'letters, digits and . _ : @ + -')
    .describe('Model name as clients send it (dated snapshots fall back to the undated name)'),
});

const perImage = z
  .record(z.string().min(1).max(40), z.record(z.string().min(1).max(40), price))
  .describe('USD per image by size and quality, e.g. {"1024x1024": {"standard": 0.04, "hd": 0.08}}');
const tokenRates = {
  cached_input: price.optional().describe('USD per 1M cached input tokens (default: input)'),
  reasoning: price.optional().describe('USD per 1M reasoning tokens, where priced apart from output'),
  audio_input: price.optional().describe('USD per 1M audio input tokens (default: input)'),
  cached_audio_input: price.optional().describe('USD per 1M cached audio input tokens (default: audio_input)'),
  audio_output: price.optional().describe('USD per 1M audio output tokens (default: output)'),
  image_input: price.optional().describe('USD per 1M image input tokens (default: input)'),
  cached_image_input: price.optional().describe('USD per 1M cached image input tokens (default: image_input)'),
  image_output: price.optional().describe('USD per 1M image output tokens (default: output)'),
};
const tierPrices = z
  .record(
    z.string().min(1).max(40),
    z.strictObject({ input: price.optional(), output: price.optional(), ...tokenRates }),
  )
  .describe("A service tier's own token rates (e.g. priority); rates it omits follow the table's tier multiplier");

export const setPrice = z.strictObject({
  input: price.describe('USD per 1M input tokens (0 for a model billed only by other units)'),
  output: price.describe('USD per 1M output tokens'),
  ...tokenRates,
  per_image: perImage.optional(),
  per_minute: price.optional().describe('USD per minute of audio, where the response reports no tokens (whisper-1)'),
  per_1m_characters: price
    .optional()
    .describe('USD per 1M characters of speech input, where the response reports no tokens (tts-1)'),
  tiers: tierPrices.optional(),
});

const nullablePrice = z.number().nullable();
export const priceEntry = z
  .object({
    model: z.string(),
    source: z.enum(['built_in', 'file', 'override']).describe('Shipped table, PRICING_FILE, or the API'),
    input: z.number(),
    cached_input: nullablePrice,
    output: z.number(),
    reasoning: nullablePrice,
    audio_input: nullablePrice,
    cached_audio_input: nullablePrice,
    audio_output: nullablePrice,
    image_input: nullablePrice,
    cached_image_input: nullablePrice,
    image_output: nullablePrice,
    per_image: perImage.nullable(),
    per_minute: nullablePrice,
    per_1m_characters: nullablePrice,
    tiers: tierPrices.nullable(),
    updated_at: nullableIso.describe('When the override was set; null for file prices'),
  })
  .describe('Price');

export const pricingTable = z
  .object({
    as_of: z.string().nullable().describe('Date of the newest pricing file in effect'),
    data: z.array(priceEntry),
    aliases: z.record(z.string(), z.string()).describe('Model names priced as another model'),
    tools: z
      .record(
        z.string(),
        z.object({
          per_1k_calls: z.number().describe('USD per 1k calls (code_interpreter: per 1k containers)'),
          models: z.record(z.string(), z.number()).optional().describe('By model or family prefix'),
        }),
      )
      .describe('Tool fees, charged per call on top of tokens'),
    service_tiers: z
      .record(z.string(), z.number())
      .describe("Service tiers' token rates as a multiple of the standard rates (flex, batch)"),
  })
  .describe('PricingTable');

// Batch operations

export const createTokenBatch = z.strictObject({
  project_id: z.string().min(1),
  count: z.number().int().min(1).max(1000).describe('How many tokens to issue (1-1000)'),
  name_prefix: z
    .string()
    .trim()
    .min(1)
    .max(180)
    .optional()
    .describe(
      'Names become <prefix>-1, <prefix>-2, …, zero-padded to the width of count (<prefix>-01 … <prefix>-20 for 20); without it the tokens have no name',
    ),
  duration_minutes: durationMinutes.optional(),
  expires_at: isoTime.optional(),
  ...limitInputs,
});

export const revokeTokensWhere = z
  .strictObject({
    project_id: z.string().min(1).optional(),
    name_prefix: z.string().min(1).max(200).optional().describe('Names starting with this (case-sensitive)'),
    ids: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
    expired: z.literal(true).optional().describe('Only tokens past their expiry'),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'give at least one of project_id, name_prefix, ids, expired',
  });

// Audit trail

const auditWord = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@/ {}-]+$/, 'letters, digits and . _ : @ / - { } and spaces');

export const auditQuery = z
  .object({
    limit: pageQuery.shape.limit,
    cursor: z
      .string()
      .max(40)
      .refine((c) => /^\d{1,16}$/.test(decodeCursor(c) ?? ''), 'not a cursor returned by this API')
      .optional()
      .describe('next_cursor of the previous page'),
    action: z
      .string()
      .max(100)
      .regex(/^[a-z_.*]+$/, 'an action such as token.created, or a glob such as token.* or *.deleted')
      .optional()
      .describe(
        'An action (token.created), or a glob where * matches any characters (token.*, *.deleted); events ' +
          'recorded under an older name of a matching action are included',
      ),
    target_type: auditWord.optional().describe('project, token, model, route, audit'),
    target_id: auditWord.optional(),
    actor: auditWord
      .optional()
      .describe('Actor type (management-token, system, token, anonymous), or type:id (token:<id>, system:maintenance)'),
    from: timeParam.optional().describe('Start, RFC 3339 or epoch ms (inclusive)'),
    to: timeParam.optional().describe('End, RFC 3339 or epoch ms (exclusive)'),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.to > q.from, {
    message: 'to must be after from',
    path: ['to'],
  });

const jsonObject = z.record(z.string(), z.unknown());

export const auditEvent = z
  .object({
    id: z.string(),
    seq: z.number().int().describe('Position in the chain (1, 2, 3, …)'),
    time: isoTime,
    actor_type: z.string().describe('management-token, system, token, anonymous (later user)'),
    actor_id: z.string().nullable(),
    client_ip: z.string().nullable().describe('null when unknown, or with AUDIT_CLIENT_IP=false'),
    action: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    changes: z
      .object({ before: jsonObject.nullable(), after: jsonObject.nullable() })
      .nullable()
      .describe('The changed fields before and after; never a secret (an upstream key only as its hint)'),
    details: jsonObject.nullable().describe('Counts, ids, filters, reasons: see docs/observability.md#audit-trail'),
    request_id: z.string().nullable(),
    key_id: z.string().describe('Id of the encryption key whose derived audit key signed the event'),
    prev_hash: z.string().describe('Hash of the event before ("" for the first)'),
    hash: z.string().describe('HMAC-SHA256 over prev_hash and this event'),
  })
  .describe('AuditEvent');
