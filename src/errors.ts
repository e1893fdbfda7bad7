/**
 * The error catalogue: every code the proxy and the management API answer with (`ERROR_CODES`,
 * listed with its status, type, cause and retry advice in docs/api.md#error-codes; a test holds
 * the two together) and one constructor per refusal (`errors`). Code below the edge throws these;
 * the HTTP edge sends them as the `{ error: { message, type, code, param } }` body exactly once
 * (the proxy's `sendError`, server/error-handler.ts, the not-found handler, the CONNECT and
 * `Expect` answers in server/http-events.ts). Messages are written for the API caller and never
 * include secrets or stack traces.
 *
 * Retry advice is decided here too, never at a call site. Every error answers `headers()`, which
 * the edge sends as is:
 * - `retryAfterMs` set: the same request can succeed after that wait (a rate window, a budget
 *   period) → `retry-after` (whole seconds, rounded up), `retry-after-ms`, and `x-should-retry:
 *   true`, or `false` when the wait is longer than SDKs wait (RETRY_WINDOW_MS) so they fail at
 *   once instead of retrying into the same refusal;
 * - `retryable: true` without a time: worth retrying soon → `x-should-retry: true`;
 * - otherwise a 4xx is final (a spent cap, a refused model, a bad request) → `x-should-retry:
 *   false`; a 5xx gives no advice (upstream failures: the SDK's own rules apply), except after
 *   the proxy retried it itself (`afterRetries`): `false`.
 * New refusals (e.g. concurrency caps, a saturated upstream pool) only set `retryAfterMs` or
 * `retryable` in their catalogue entry.
 *
 * This module imports nothing (layer 1). What a database error means (an outage, a unique
 * violation) is the store's knowledge (store/store-errors.ts); callers that meet one ask the store
 * and pass the answer to `errors.storeUnavailable`.
 */

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
 * Every error code, with the status and type it is always sent with (`invalid_request` alone may
 * carry another 4xx that Fastify chose). The one list: `AppError` takes only these codes.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_path: { status: 400, type: 'invalid_request_error' },
  invalid_model: { status: 400, type: 'invalid_request_error' },
  idempotency_key_invalid: { status: 400, type: 'invalid_request_error' },
  idempotency_key_unsupported: { status: 400, type: 'invalid_request_error' },
  oidc_state_invalid: { status: 400, type: 'invalid_request_error' },
  invalid_management_token: { status: 401, type: 'authentication_error' },
  invalid_credentials: { status: 401, type: 'authentication_error' },
  session_required: { status: 401, type: 'authentication_error' },
  session_expired: { status: 401, type: 'authentication_error' },
  oidc_token_invalid: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  endpoint_not_allowed: { status: 403, type: 'permission_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  model_required: { status: 403, type: 'permission_error' },
  model_not_priced: { status: 403, type: 'permission_error' },
  csrf_token_invalid: { status: 403, type: 'permission_error' },
  insufficient_role: { status: 403, type: 'permission_error' },
  oidc_not_allowed: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  oidc_not_configured: { status: 404, type: 'not_found_error' },
  unknown_url: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  request_body_timeout: { status: 408, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'conflict_error' },
  idempotency_key_in_use: { status: 409, type: 'conflict_error' },
  idempotency_response_not_kept: { status: 409, type: 'conflict_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  expectation_failed: { status: 417, type: 'invalid_request_error' },
  idempotency_key_mismatch: { status: 422, type: 'invalid_request_error' },
  request_limit_reached: { status: 429, type: 'rate_limit_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  tokens_rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  budget_exceeded: { status: 429, type: 'rate_limit_error' },
  concurrency_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  management_rate_limited: { status: 429, type: 'rate_limit_error' },
  sign_in_rate_limited: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_key_unreadable: { status: 500, type: 'server_error' },
  upstream_unavailable: { status: 502, type: 'upstream_error' },
  oidc_provider_error: { status: 502, type: 'upstream_error' },
  upstream_saturated: { status: 503, type: 'upstream_error' },
  upstream_cooling_down: { status: 503, type: 'upstream_error' },
  server_busy: { status: 503, type: 'server_error' },
  server_overloaded: { status: 503, type: 'server_error' },
  store_unavailable: { status: 503, type: 'server_error' },
  limiter_unavailable: { status: 503, type: 'server_error' },
  idempotency_unavailable: { status: 503, type: 'server_error' },
  cache_unavailable: { status: 503, type: 'server_error' },
  upstream_timeout: { status: 504, type: 'upstream_error' },
} as const satisfies Record<string, { status: number; type: ErrorType }>;

export type ErrorCode = keyof typeof ERROR_CODES;

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

/** Who a limit belongs to, as a refusal names it. */
export type LimitSubject = 'token' | 'project';

/** Why the database cannot serve (store/store-errors.ts `storeOutage` tells). */
export type OutageKind = 'disk_full' | 'timeout' | 'unavailable';

export class AppError extends Error {
  readonly status: number;
  readonly type: ErrorType;

  /** Use the constructors in `errors`; `status` overrides the code's own only for `clientError`. */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: ErrorExtra = {},
    status?: number,
  ) {
    super(message);
    this.name = 'AppError';
    const entry = ERROR_CODES[code];
    this.status = status ?? entry.status;
    this.type = entry.type;
  }

  /**
   * This failure after the proxy already retried it (proxy/failover.ts): final, so SDKs do not
   * multiply the attempts, unless it advises a wait.
   */
  afterRetries(): AppError {
    if (this.extra.retryAfterMs !== undefined || this.extra.retryable) return this;
    return new AppError(
      this.code,
      this.message,
      { ...this.extra, headers: { ...this.extra.headers, 'x-should-retry': 'false' } },
      this.status,
    );
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
  toBody(): { error: { message: string; type: ErrorType; code: ErrorCode; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.extra.param ?? null } };
  }
}

/**
 * The 401 of a proxy token that does not pass, saying which refusal it is (`missing_token`,
 * `unknown_token`, `token_expired`, `token_revoked`, `project_inactive`) and, for a token that is
 * known, whose: the audit trail's refusal summaries read it off the error, nothing is looked up twice.
 */
export class InvalidApiKey extends AppError {
  constructor(
    message: string,
    readonly refusal: string,
    readonly tokenId?: string,
    readonly projectId?: string,
  ) {
    super('invalid_api_key', message);
  }
}

/**
 * An error that is not in the catalogue (a bug, or a failure nobody below the edge translated):
 * a 500 whose details are logged, never returned. Store outages are translated where the store is
 * called (see `errors.storeUnavailable`), so they arrive here as catalogue errors.
 */
export function fromUnexpected(err: unknown): AppError {
  return err instanceof AppError ? err : errors.internal();
}

/** Start-up configuration problems: printed and the process exits non-zero. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "This token" or "This token's project": whose limit a refusal names. */
const whose = (subject: LimitSubject) => (subject === 'token' ? 'This token' : "This token's project");

/** `n thing` or `n things`. */
const count = (n: number, thing: string) => `${n} ${n === 1 ? thing : `${thing}s`}`;

/** Nano-dollars as dollars, with cents always and sub-cent digits only when set: 2.00, 0.0024. */
const dollars = (nano: number) => (nano / 1e9).toFixed(9).replace(/(\.\d\d\d*?)0+$/, '$1');

export const errors = {
  validation: (message: string, param: string | null = null) => new AppError('invalid_request', message, { param }),
  /** A 4xx that Fastify raised and the catalogue has no closer code for: its status, its message. */
  clientError: (status: number, message: string) => new AppError('invalid_request', message, {}, status),
  invalidJson: (detail: string) => new AppError('invalid_json', `Request body is not valid JSON: ${detail}`),
  managementUnauthorized: () =>
    new AppError(
      'invalid_management_token',
      'Missing or invalid management token. Send it as "Authorization: Bearer <MANAGEMENT_TOKEN>", or sign in (POST /manage/session).',
    ),

  // Sign-in and access (the admin UI's sessions, users and roles: docs/security.md).
  /** A wrong management token, username or password, a disabled user: the reply never says which. */
  invalidCredentials: () => new AppError('invalid_credentials', 'Wrong credentials.'),
  /** Too many failed sign-ins from this address or for this username: a retry passes after the window. */
  signInRateLimited: (retryAfterMs: number) =>
    new AppError(
      'sign_in_rate_limited',
      `Too many failed sign-ins; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))}s.`,
      { retryAfterMs },
    ),
  /** A route about the browser session itself, called without one. */
  sessionRequired: () => new AppError('session_required', 'Not signed in: this route needs a session cookie.'),
  /** A session cookie that is unknown, signed out, ended by an admin, or past its idle or absolute expiry. */
  sessionExpired: () => new AppError('session_expired', 'Your session has ended; sign in again.'),
  csrfTokenInvalid: () =>
    new AppError(
      'csrf_token_invalid',
      'Missing or wrong x-csrf-token header: a change made with a session cookie must carry the csrf_token of the session.',
    ),
  insufficientRole: (role: string, needed: string) =>
    new AppError('insufficient_role', `Your role (${role}) may not do this; it needs the role ${needed}.`),
  oidcNotConfigured: () =>
    new AppError('oidc_not_configured', 'Single sign-on is not configured on this server (OIDC_ISSUER).'),
  oidcStateInvalid: (detail: string) =>
    new AppError('oidc_state_invalid', `The sign-in attempt could not be matched (${detail}); start again.`),
  oidcTokenInvalid: (detail: string) =>
    new AppError('oidc_token_invalid', `The identity provider's answer failed verification: ${detail}.`),
  oidcProviderError: (detail: string) =>
    new AppError('oidc_provider_error', `The identity provider could not complete the sign-in: ${detail}.`),
  oidcNotAllowed: () =>
    new AppError('oidc_not_allowed', 'Your account is not allowed to use this server (OIDC_ALLOWED_EMAILS, groups).'),
  missingApiKey: () =>
    new InvalidApiKey(
      "You didn't provide an API key. Send your proxy token as 'Authorization: Bearer <token>' (or an 'api-key' header).",
      'missing_token',
    ),
  invalidApiKey: (reason: string, refusal = 'unknown_token', tokenId?: string, projectId?: string) =>
    new InvalidApiKey(`Incorrect API key provided: ${reason}.`, refusal, tokenId, projectId),

  // The limiter's refusals (headers: the `x-ratelimit-*` state). Each says when a retry can pass.
  /** `max_requests` spent: final, the cap is lifelong. */
  requestLimitReached: (subject: LimitSubject, limit: number, headers: Record<string, string>) =>
    new AppError(
      'request_limit_reached',
      limit === 1
        ? `${whose(subject)} has used its 1 request.`
        : `${whose(subject)} has used all of its ${limit} requests.`,
      { headers },
    ),
  /** `requests_per_minute`: a retry passes after `retryAfterMs`. */
  requestRateExceeded: (
    subject: LimitSubject,
    limit: number,
    headers: Record<string, string>,
    retryAfterMs: number | undefined,
  ) =>
    new AppError('rate_limit_exceeded', `${whose(subject)} is limited to ${count(limit, 'request')} per minute.`, {
      headers,
      retryAfterMs,
    }),
  /** `tokens_per_minute`: a retry passes after `retryAfterMs`. */
  tokenRateExceeded: (
    subject: LimitSubject,
    limit: number,
    headers: Record<string, string>,
    retryAfterMs: number | undefined,
  ) =>
    new AppError('tokens_rate_limit_exceeded', `${whose(subject)} is limited to ${count(limit, 'token')} per minute.`, {
      headers,
      retryAfterMs,
    }),
  /**
   * A budget spent. A day or month budget comes back at the next period (`periodEndsInMs`, from the
   * limiter); a lifetime one never does, nor does any budget for a request estimated to cost more
   * than the whole of it: then no retry is advised.
   */
  budgetExceeded: (
    subject: LimitSubject,
    limitNanoUsd: number,
    period: 'total' | 'day' | 'month',
    headers: Record<string, string>,
    periodEndsInMs: number | undefined,
    estimatedCostNanoUsd = 0,
  ) =>
    new AppError(
      'budget_exceeded',
      `${whose(subject)} has reached its budget of $${dollars(limitNanoUsd)} for the ${period === 'total' ? 'lifetime' : period}.`,
      {
        headers,
        retryAfterMs: period === 'total' || estimatedCostNanoUsd > limitNanoUsd ? undefined : periodEndsInMs,
      },
    ),
  /** `max_concurrent`: a retry passes once a request in flight ends (advised after 1 s). */
  maxConcurrentReached: (subject: LimitSubject, limit: number, headers: Record<string, string>) =>
    errors.concurrencyLimited(`${whose(subject)} is limited to ${limit} concurrent requests.`, headers),

  endpointNotAllowed: (method: string, path: string) =>
    new AppError('endpoint_not_allowed', `This token may not call ${method} ${path}.`),
  modelNotAllowed: (model: string) =>
    new AppError('model_not_allowed', `This token may not use the model ${model}.`, { param: 'model' }),
  modelRequired: () =>
    new AppError(
      'model_required',
      'This token is limited to certain models, and the model of this request could not be read.',
      { param: 'model' },
    ),
  modelNotPriced: (model: string) =>
    new AppError(
      'model_not_priced',
      `The model ${model} has no price, so its cost cannot be held against this token's budget. Set one with PUT /manage/pricing/${model}.`,
      { param: 'model' },
    ),
  notFound: (what: string, id: string) => new AppError('not_found', `No ${what} with id ${id}.`),
  userNotFound: (username: string) => new AppError('not_found', `No user named "${username}".`),
  pricingOverrideNotFound: (model: string) => new AppError('not_found', `No pricing override for the model ${model}.`),
  routeNotFound: (method: string, url: string) => new AppError('unknown_url', `Unknown request URL: ${method} ${url}.`),
  /** A Realtime API session asked of an instance that is shutting down. */
  shuttingDown: () =>
    new AppError('server_overloaded', 'This proxy instance is shutting down and opens no new session; connect again.', {
      retryable: true,
    }),
  /** A WebSocket upgrade anywhere but the Realtime API. */
  upgradeNotServed: (path: string) =>
    new AppError(
      'unknown_url',
      `WebSocket upgrades are served only at /v1/realtime; ${path} cannot be upgraded (send it as a plain HTTP request).`,
    ),
  methodNotAllowed: (method: string, allow: string) =>
    new AppError('method_not_allowed', `The method ${method} is not supported; use one of ${allow}.`, {
      headers: { allow },
    }),
  unsafePath: () =>
    new AppError(
      'invalid_path',
      "The request path contains a '.' or '..' segment, a backslash, a control character or invalid UTF-8 (also percent-encoded or as a look-alike), which the proxy does not forward.",
    ),
  pathTooLong: (max: number) => new AppError('invalid_path', `The request path is longer than ${max} characters.`),
  modelTooLong: (max: number) =>
    new AppError('invalid_model', `The model name is longer than ${max} characters.`, { param: 'model' }),
  expectationFailed: (expect: string) =>
    new AppError(
      'expectation_failed',
      `Unsupported Expect header "${expect.slice(0, 64)}"; only "100-continue" is supported.`,
    ),
  conflict: (message: string) => new AppError('conflict', message),
  /** A project's tokens need an enabled upstream key to forward with. */
  lastEnabledKey: (what: 'disable' | 'remove', name: string) =>
    new AppError(
      'conflict',
      `Cannot ${what} the key "${name}": it is the project's last enabled upstream key. Add or enable another key first.`,
    ),
  bodyTooLarge: (limit: number) =>
    new AppError('request_too_large', `Request body exceeds the limit of ${limit} bytes.`),
  unsupportedMediaType: (type: string) =>
    new AppError('unsupported_media_type', `Unsupported content type ${type}; send application/json.`),
  /** Over MANAGE_RATE_LIMIT_PER_MINUTE: a retry passes when the window ends. */
  managementRateLimited: (retryAfterSeconds: number) =>
    new AppError('management_rate_limited', `Too many management requests; retry in ${retryAfterSeconds}s.`, {
      retryAfterMs: retryAfterSeconds * 1000,
    }),
  /** A token or project over its concurrency cap, or holding its share of an upstream's connections. */
  concurrencyLimited: (message: string, headers: Record<string, string> = {}) =>
    new AppError('concurrency_limit_exceeded', message, { headers, retryAfterMs: 1000 }),
  /** Every connection to the upstream busy for longer than the queue allows (or the queue full). */
  upstreamSaturated: (detail: string) =>
    new AppError('upstream_saturated', `The upstream API is at capacity: ${detail}; retry shortly.`, {
      retryAfterMs: 1000,
    }),
  /**
   * Every upstream key of the project is cooling down after 429s, 5xx or failed connections, and
   * none recovered within UPSTREAM_COOLDOWN_WAIT_MS: retry when the first one does.
   */
  upstreamCoolingDown: (retryAfterMs: number) =>
    new AppError(
      'upstream_cooling_down',
      'Every upstream API key of this project is cooling down after the upstream refused or failed requests; retry after the time in Retry-After.',
      { retryAfterMs: Math.max(1, retryAfterMs) },
    ),
  /** The client stopped sending its request body. */
  requestBodyTimeout: (ms: number) =>
    new AppError('request_body_timeout', `No request body data arrived for ${ms} ms; the request was cancelled.`, {
      retryable: true,
    }),
  /**
   * The request body kept coming but not all of it within PROXY_BODY_TIMEOUT_MS. Final: the same
   * upload over the same link would take as long again.
   */
  requestBodyTooSlow: (ms: number) =>
    new AppError(
      'request_body_timeout',
      `The request body did not arrive in full within ${ms} ms; the request was cancelled.`,
    ),
  /** A token or project already has its share of the memory for request bodies being read. */
  bodyMemoryShare: (shareBytes: number) =>
    errors.concurrencyLimited(
      `This token or its project is already sending request bodies up to its share of the proxy's memory for them (${shareBytes} bytes); retry when one has arrived.`,
    ),
  /** The memory for request bodies being read (PROXY_BODY_MEMORY_BYTES) is taken. */
  serverBusy: () =>
    new AppError('server_busy', 'The proxy is receiving as many request bodies as its memory allows; retry shortly.', {
      retryAfterMs: 1000,
    }),
  /** This instance has PROXY_MAX_IN_FLIGHT requests in flight: the request is shed, unread. */
  serverOverloaded: () =>
    new AppError('server_overloaded', 'This proxy instance is serving as many requests as it allows; retry shortly.', {
      retryAfterMs: 1000,
    }),
  upstreamUnavailable: (detail: string) =>
    new AppError('upstream_unavailable', `The upstream API could not be reached: ${detail}.`),
  upstreamTimeout: (what: string) =>
    new AppError('upstream_timeout', `The upstream API did not answer in time (${what}).`),
  /**
   * The database cannot serve: down, timed out or overloaded (retry in a second), or out of disk
   * (retry-after 10 s, no SDK retry: an operator must free space). The kind comes from the store
   * (`storeOutage(err)` in store/store-errors.ts).
   */
  storeUnavailable: (kind: OutageKind = 'unavailable') =>
    kind === 'disk_full'
      ? new AppError(
          'store_unavailable',
          'The database has no disk space left; retry once an operator has freed space.',
          { headers: { 'retry-after': '10' } },
        )
      : new AppError('store_unavailable', 'The database is unavailable; retry shortly.', { retryAfterMs: 1000 }),
  /**
   * The shared limiter (Redis) cannot answer and REDIS_FAILURE_MODE is `closed`: a request under a
   * limit is refused rather than let through unchecked. Retry in a second (the breaker's probe).
   */
  limiterUnavailable: () =>
    new AppError('limiter_unavailable', "The proxy cannot check this token's limits right now; retry shortly.", {
      retryAfterMs: 1000,
    }),
  /** Idempotency-Key (idempotency/): a key that is empty, too long or not printable ASCII. */
  idempotencyKeyInvalid: (max: number) =>
    new AppError(
      'idempotency_key_invalid',
      `The Idempotency-Key header must be 1 to ${max} printable ASCII characters.`,
      { param: 'Idempotency-Key' },
    ),
  /** A body the proxy cannot read whole to fingerprint: an upload, a chunked or a very large body. */
  idempotencyKeyUnsupported: (why: string) =>
    new AppError(
      'idempotency_key_unsupported',
      `Idempotency-Key is not supported for this request (${why}); send it without the header.`,
      { param: 'Idempotency-Key' },
    ),
  /** The first request with this key still runs past IDEMPOTENCY_WAIT_MS: retry once it finished. */
  idempotencyKeyInUse: () =>
    new AppError(
      'idempotency_key_in_use',
      'A request with this Idempotency-Key is still being processed; retry once it has finished.',
      { param: 'Idempotency-Key', retryAfterMs: 1000 },
    ),
  /** The first request finished, but its response was larger than IDEMPOTENCY_MAX_RESPONSE_BYTES. */
  idempotencyResponseNotKept: () =>
    new AppError(
      'idempotency_response_not_kept',
      'A request with this Idempotency-Key already completed, but its response was too large to keep for a replay; use a new key to run the request again.',
      { param: 'Idempotency-Key' },
    ),
  /** The key was used for another request (method, path or body differ). */
  idempotencyKeyMismatch: () =>
    new AppError(
      'idempotency_key_mismatch',
      'This Idempotency-Key was already used with a different request (method, path or body); use a new key for a new request.',
      { param: 'Idempotency-Key' },
    ),
  /** The store of idempotency keys (the database, or Redis) cannot answer. */
  idempotencyUnavailable: () =>
    new AppError('idempotency_unavailable', 'The proxy cannot check this Idempotency-Key right now; retry shortly.', {
      retryAfterMs: 1000,
    }),
  /** The response cache's backend (Redis) could not be purged; what failed is logged, not answered. */
  cacheUnavailable: () =>
    new AppError('cache_unavailable', 'The response cache cannot be purged right now; retry shortly.', {
      retryAfterMs: 1000,
    }),
  internal: () => new AppError('internal_error', 'Internal server error.'),
  /**
   * The project's upstream key cannot be decrypted with this server's keyring (ENCRYPTION_KEY
   * changed without ENCRYPTION_KEY_PREVIOUS, or lost). A retry cannot succeed until an operator acts;
   * why (the missing key id) is kept as the cause, for the log only.
   */
  upstreamKeyUnreadable: (cause: Error) => {
    const err = new AppError(
      'upstream_key_unreadable',
      "The proxy cannot decrypt this project's upstream key with its encryption key; an operator must " +
        "restore that key (ENCRYPTION_KEY_PREVIOUS) or set the project's API key again.",
      { headers: { 'x-should-retry': 'false' } },
    );
    err.cause = cause;
    return err;
  },
};
