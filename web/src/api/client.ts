import createClient from 'openapi-fetch';
import { getAuth, setAuth } from './auth';
import { type ApiError, toApiError } from './errors';
import type { paths } from './schema';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A change made with the session cookie carries the session's CSRF token (the cookie travels by itself). */
function authorize(headers: Headers, method: string): void {
  const auth = getAuth();
  if (auth.kind === 'session' && STATE_CHANGING.has(method.toUpperCase())) headers.set('x-csrf-token', auth.csrfToken);
}

/** The typed client of the management API; the session cookie travels by itself (same origin). */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use({
  onRequest({ request }) {
    authorize(request.headers, request.method);
    return request;
  },
});

/** A reply that says the sign-in is gone (expired session, changed token) signs the page out. */
function signedOutBy(err: ApiError): void {
  if (err.status === 401 && getAuth().kind !== 'none') setAuth({ kind: 'none' });
}

/** The data of a successful reply; an ApiError otherwise (network failures stay TypeErrors). */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const err = toApiError(response, error);
  signedOutBy(err);
  throw err;
}
