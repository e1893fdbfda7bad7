/**
 * The error catalogue. Code below the edge throws these; the HTTP edge maps them to a status and
 * the `{ error: { message, type, code } }` body exactly once (see server/error-handler.ts).
 * Messages are written for the API caller and never include secrets or stack traces.
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

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    /** Extra fields for the body (e.g. `param`) and headers (e.g. Retry-After). */
    readonly extra: { param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
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
  limitReached: (code: string, message: string, headers: Record<string, string>) =>
    new AppError(429, 'rate_limit_error', code, message, { headers }),
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
      retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } },
    ),
  upstreamUnavailable: (detail: string) =>
    new AppError(502, 'upstream_error', 'upstream_unavailable', `The upstream API could not be reached: ${detail}.`),
  upstreamTimeout: (what: string) =>
    new AppError(504, 'upstream_error', 'upstream_timeout', `The upstream API did not answer in time (${what}).`),
  notReady: (detail: string) => new AppError(503, 'server_error', 'not_ready', detail),
  storeUnavailable: () =>
    new AppError(503, 'server_error', 'store_unavailable', 'The database is unavailable; retry shortly.', {
      headers: { 'retry-after': '1' },
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
