/**
 * The error catalogue. Code below the edge throws these; the HTTP edge maps them to a status and
 * the `{ error: { message, type, code } }` body exactly once (see server/error-handler.ts).
 * Messages are written for the API caller and never include secrets or stack traces.
 *
 * Retry advice is decided here too, never at a call site. Every error answers `headers()`, which
 * the edge sends as is (forward.ts `sendError`, error-handler.ts, the CONNECT answer):
 * - `retryAfterMs` set: the same request can succeed after that wait (a rate window, a budget
 *   period) → `retry-after` (whole seconds, rounded up), `retry-after-ms`, and `x-should-retry:
 *   true`, or `false` when the wait is longer than SDKs wait (RETRY_WINDOW_MS) so they fail at
 *   once instead of retrying into the same refusal;
 * - `retryable: true` without a time: worth retrying soon → `x-should-retry: true`;
 * - otherwise a 4xx is final (a spent cap, a refused model, a bad request) → `x-should-retry:
 *   false`; a 5xx gives no advice (upstream failures: the SDK's own rules apply).
 * New refusals (e.g. concurrency caps, a saturated upstream pool) only set `retryAfterMs` or
 * `retryable` in their catalogue entry.
 */
import { storeOutage } from './store/store-errors.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'server_error';

/**
 * The longest Retry-After worth a retry: the OpenAI SDKs honour a Retry-After of up to 60 s and
 * retry after their own short back-off beyond that, which cannot succeed before the time.
 */
export const RETRY_WINDOW_MS = 60_000;

export interface ErrorExtra {
  /** The request field at fault, for the body. */
  param?: string | null;
  /** Headers besides the retry advice (e.g. `x-ratelimit-*`, `allow`). */
  headers?: Record<string, string>;
  /** When the same request can succeed (see the catalogue's doc comment). */
  retryAfterMs?: number;
  /** Worth retrying soon although no time is known; a 4xx without this or a time is final. */
  retryable?: boolean;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly extra: ErrorExtra = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  /** The response headers of this error: its own plus the retry advice. */
  headers(): Record<string, string> {
    const h: Record<string, string> = { ...this.extra.headers };
    const ms = this.extra.retryAfterMs;
    if (ms !== undefined) {
      h['retry-after'] = String(Math.max(1, Math.ceil(ms / 1000)));
      h['retry-after-ms'] = String(Math.max(0, Math.ceil(ms)));
      h['x-should-retry'] = ms <= RETRY_WINDOW_MS ? 'true' : 'false';
    } else if (this.extra.retryable) h['x-should-retry'] = 'true';
    else if (this.status < 500) h['x-should-retry'] = 'false';
    return h;
  }

  /** OpenAI's error shape: `param` is always present (null when no single field is at fault). */
  toBody(): { error: { message: string; type: ErrorType; code: string; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.extra.param ?? null } };
  }
}

/**
 * Maps an unexpected error to the catalogue: a store outage (down, timed out, out of disk; the codes
 * live in store/store-errors.ts, a leaf module that imports nothing) is a 503, anything else a 500.
 */
export function fromUnexpected(err: unknown): AppError {
  const outage = storeOutage(err);
  if (outage === 'disk_full') return errors.storeFull();
  return outage ? errors.storeUnavailable() : errors.internal();
}

/** Start-up configuration problems: printed and the process exits non-zero. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const errors = {
  validation: (message: string, param: string | null = null) =>
    new AppError(400, 'invalid_request_error', 'invalid_request', message, { param }),
  invalidJson: (detail: string) =>
    new AppError(400, 'invalid_request_error', 'invalid_json', `Request body is not valid JSON: ${detail}`),
  managementUnauthorized: () =>
    new AppError(
      401,
      'authentication_error',
      'invalid_management_token',
      'Missing or invalid management token. Send it as "Authorization: Bearer <MANAGEMENT_TOKEN>".',
    ),
  missingApiKey: () =>
    new AppError(
      401,
      'invalid_request_error',
      'invalid_api_key',
      "You didn't provide an API key. Send your proxy token as 'Authorization: Bearer <token>' (or an 'api-key' header).",
    ),
  /** A limit of the token or project; `retryAfterMs` when a later retry can pass (rates, period budgets). */
  limitReached: (code: string, message: string, headers: Record<string, string>, retryAfterMs?: number) =>
    new AppError(
      429,
      'rate_limit_error',
      code,
      message,
      retryAfterMs === undefined ? { headers } : { headers, retryAfterMs },
    ),
  endpointNotAllowed: (method: string, path: string) =>
    new AppError(403, 'permission_error', 'endpoint_not_allowed', `This token may not call ${method} ${path}.`),
  modelNotAllowed: (model: string) =>
    new AppError(403, 'permission_error', 'model_not_allowed', `This token may not use the model ${model}.`, {
      param: 'model',
    }),
  modelRequired: () =>
    new AppError(
      403,
      'permission_error',
      'model_required',
      'This token is limited to certain models, and the model of this request could not be read.',
      { param: 'model' },
    ),
  modelNotPriced: (model: string) =>
    new AppError(
      403,
      'permission_error',
      'model_not_priced',
      `The model ${model} has no price, so its cost cannot be held against this token's budget. Set one with PUT /manage/pricing/${model}.`,
      { param: 'model' },
    ),
  invalidApiKey: (reason: string) =>
    new AppError(401, 'invalid_request_error', 'invalid_api_key', `Incorrect API key provided: ${reason}.`),
  notFound: (what: string, id: string) =>
    new AppError(404, 'not_found_error', 'not_found', `No ${what} with id ${id}.`),
  routeNotFound: (method: string, url: string) =>
    new AppError(404, 'invalid_request_error', 'unknown_url', `Unknown request URL: ${method} ${url}.`),
  methodNotAllowed: (method: string, allow: string) =>
    new AppError(
      405,
      'invalid_request_error',
      'method_not_allowed',
      `The method ${method} is not supported; use one of ${allow}.`,
      { headers: { allow } },
    ),
  unsafePath: () =>
    new AppError(
      400,
      'invalid_request_error',
      'invalid_path',
      "The request path contains a '.' or '..' segment or a backslash (also percent-encoded), which the proxy does not forward.",
    ),
  modelTooLong: (max: number) =>
    new AppError(400, 'invalid_request_error', 'invalid_model', `The model name is longer than ${max} characters.`, {
      param: 'model',
    }),
  expectationFailed: (expect: string) =>
    new AppError(
      417,
      'invalid_request_error',
      'expectation_failed',
      `Unsupported Expect header "${expect.slice(0, 64)}"; only "100-continue" is supported.`,
    ),
  conflict: (message: string) => new AppError(409, 'conflict_error', 'conflict', message),
  bodyTooLarge: (limit: number) =>
    new AppError(
      413,
      'invalid_request_error',
      'request_too_large',
      `Request body exceeds the limit of ${limit} bytes.`,
    ),
  unsupportedMediaType: (type: string) =>
    new AppError(
      415,
      'invalid_request_error',
      'unsupported_media_type',
      `Unsupported content type ${type}; send application/json.`,
    ),
  rateLimited: (message: string, code: string, retryAfterSeconds?: number) =>
    new AppError(
      429,
      'rate_limit_error',
      code,
      message,
      retryAfterSeconds === undefined ? {} : { retryAfterMs: retryAfterSeconds * 1000 },
    ),
  /** A token or project over its concurrency cap, or holding its share of an upstream's connections. */
  concurrencyLimited: (message: string, headers: Record<string, string> = {}) =>
    new AppError(429, 'rate_limit_error', 'concurrency_limit_exceeded', message, { headers, retryAfterMs: 1000 }),
  /** Every connection to the upstream busy for longer than the queue allows (or the queue full). */
  upstreamSaturated: (detail: string) =>
    new AppError(
      503,
      'upstream_error',
      'upstream_saturated',
      `The upstream API is at capacity: ${detail}; retry shortly.`,
      { retryAfterMs: 1000 },
    ),
  /** The client stopped sending its request body. */
  requestBodyTimeout: (ms: number) =>
    new AppError(
      408,
      'invalid_request_error',
      'request_body_timeout',
      `No request body data arrived for ${ms} ms; the request was cancelled.`,
      { retryable: true },
    ),
  upstreamUnavailable: (detail: string) =>
    new AppError(502, 'upstream_error', 'upstream_unavailable', `The upstream API could not be reached: ${detail}.`),
  upstreamTimeout: (what: string) =>
    new AppError(504, 'upstream_error', 'upstream_timeout', `The upstream API did not answer in time (${what}).`),
  notReady: (detail: string) => new AppError(503, 'server_error', 'not_ready', detail),
  storeUnavailable: () =>
    new AppError(503, 'server_error', 'store_unavailable', 'The database is unavailable; retry shortly.', {
      retryAfterMs: 1000,
    }),
  storeFull: () =>
    new AppError(
      503,
      'server_error',
      'store_unavailable',
      'The database has no disk space left; retry once an operator has freed space.',
      { headers: { 'retry-after': '10' } },
    ),
  internal: () => new AppError(500, 'server_error', 'internal_error', 'Internal server error.'),
};
