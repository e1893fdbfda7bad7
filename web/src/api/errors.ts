/** Errors the management API and the proxy answer with (`{ error: { message, type, code, param } }`), as one class. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { message?: unknown; code?: unknown; param?: unknown };
}

/** An error reply as an ApiError; the body may be anything (a proxy in front may answer HTML). */
export function toApiError(res: Response, body: unknown): ApiError {
  const e = (body as ErrorBody | null)?.error;
  const retry = Number(res.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : null;
  if (e && typeof e.message === 'string') {
    return new ApiError(
      res.status,
      typeof e.code === 'string' ? e.code : 'unknown',
      e.message,
      typeof e.param === 'string' ? e.param : null,
      retryAfter,
    );
  }
  return new ApiError(res.status, 'unknown', `The server answered ${res.status} ${res.statusText}.`, null, retryAfter);
}

/**
 * What to tell a person about an error: the API's own message is written for its caller, so it is
 * shown as is; some codes get a word on what to do next.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) {
    return err instanceof TypeError
      ? 'The server could not be reached. Check that llm-proxy is running and try again.'
      : `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
  }
  const wait = err.retryAfterSeconds ? ` Try again in ${err.retryAfterSeconds} s.` : ' Try again in a moment.';
  switch (err.code) {
    case 'invalid_management_token':
    case 'session_expired':
    case 'session_required':
      return 'Your sign-in is no longer valid. Sign in again.';
    case 'invalid_credentials':
      return 'Wrong username, password or token.';
    case 'insufficient_role':
      return `Your role does not allow this. ${err.message}`;
    case 'csrf_token_invalid':
      return 'The page’s security token is stale. Reload the page and try again.';
    case 'management_rate_limited':
    case 'sign_in_rate_limited':
      return `Too many requests.${wait}`;
    case 'store_unavailable':
      return `The database is unavailable.${wait}`;
    case 'internal_error':
      return 'The server failed unexpectedly (the details are in its log).';
    default:
      return err.message;
  }
}
