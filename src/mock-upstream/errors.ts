/** OpenAI's error body: `{ "error": { message, type, param, code } }`. */
export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Thrown by handlers; the server turns it into an OpenAI-shaped error response. */
export class OpenAIHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(body.message);
  }
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null) {
  return new OpenAIHttpError(400, { message, type: 'invalid_request_error', param, code });
}

export function missingParam(param: string) {
  return invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
}

export function notFound(message: string, param: string | null = null, code: string | null = null) {
  return new OpenAIHttpError(404, { message, type: 'invalid_request_error', param, code });
}

export function unknownUrl(method: string, path: string) {
  return new OpenAIHttpError(404, {
    message: `Unknown request URL: ${method} ${path}. Please check the URL for typos, or see the docs at https://platform.openai.com/docs/api-reference/.`,
    type: 'invalid_request_error',
    param: null,
    code: 'unknown_url',
  });
}

export const invalidJson = () =>
  invalidRequest(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
  );

export const invalidApiKey = (provided: boolean) =>
  new OpenAIHttpError(401, {
    message: provided
      ? 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.'
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  });

/** The body OpenAI sends for a status, for statuses injected by options or `x-mock-status`. */
export function statusError(status: number): OpenAIHttpError {
  switch (status) {
    case 400:
      return invalidRequest('Invalid request (injected by the mock upstream).');
    case 401:
      return invalidApiKey(true);
    case 403:
      return new OpenAIHttpError(403, {
        message: 'You are not allowed to sample from this model',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      });
    case 404:
      return notFound('The model `mock` does not exist or you do not have access to it.', null, 'model_not_found');
    case 429:
      return new OpenAIHttpError(
        429,
        {
          message:
            'Rate limit reached for requests on the mock upstream. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
        { 'retry-after': '1', 'x-ratelimit-remaining-requests': '0' },
      );
    case 503:
      return new OpenAIHttpError(503, {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        param: null,
        code: null,
      });
    default:
      return status >= 500
        ? new OpenAIHttpError(status, {
            message:
              'The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists.',
            type: 'server_error',
            param: null,
            code: null,
          })
        : new OpenAIHttpError(status, {
            message: `Request failed with status ${status} (injected by the mock upstream).`,
            type: 'invalid_request_error',
            param: null,
            code: null,
          });
  }
}
