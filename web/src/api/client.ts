import createClient from 'openapi-fetch';
import { getAuth, setAuth } from './auth';
import { type ApiError, toApiError } from './errors';
import type { paths } from './schema';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The credentials of the signed-in user on a request to /manage: a bearer token, or the session's CSRF token. */
export function authorize(headers: Headers, method: string): void {
  const auth = getAuth();
  if (auth.kind === 'bearer') headers.set('authorization', `Bearer ${auth.token}`);
  else if (auth.kind === 'session' && STATE_CHANGING.has(method.toUpperCase())) {
    headers.set('x-csrf-token', auth.csrfToken);
  }
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

/** A JSON request outside the typed spec (the sign-in routes), with the same credentials and errors. */
export async function requestJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = new Headers({ accept: 'application/json' });
  if (body !== undefined) headers.set('content-type', 'application/json');
  authorize(headers, method);
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw toApiError(res, parsed);
  return parsed as T;
}
