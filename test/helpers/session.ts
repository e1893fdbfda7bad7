import { registerSecret } from './secret-watch.js';

/** A management API reply, parsed. */
export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** What a browser holds after signing in: the cookie (which its scripts cannot read) and the CSRF token from the body. */
export interface Session {
  cookie: string;
  csrf: string;
  /** The Set-Cookie header of the sign-in, as sent. */
  setCookie: string;
  body: any;
}

export interface CallOptions {
  /** Another x-csrf-token than the session's; null for none. Defaults to the session's on POST/PUT/PATCH/DELETE. */
  csrf?: string | null;
  headers?: Record<string, string>;
}

/** Calls `/manage<route>` as a browser would, with a JSON body. */
export async function call(
  baseUrl: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${baseUrl}/manage${route}`, {
    method,
    redirect: 'manual',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The value a Set-Cookie header gives a cookie (undefined when it sets none of that name). */
export function cookieValue(setCookie: string | null | undefined, name = 'llmp_session'): string | undefined {
  const m = new RegExp(`(?:^|,\\s*)${name}=([^;]*)`).exec(setCookie ?? '');
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

/** POST /manage/session; the reply, and the session when it succeeded (its secrets registered for the leak scan). */
export async function signIn(
  baseUrl: string,
  credentials: { token: string } | { username: string; password: string },
  headers: Record<string, string> = {},
): Promise<{ reply: Reply; session: Session | undefined }> {
  if ('password' in credentials) registerSecret(credentials.password);
  const reply = await call(baseUrl, 'POST', '/session', credentials, headers);
  const setCookie = reply.headers.get('set-cookie') ?? '';
  const cookie = cookieValue(setCookie);
  if (reply.status !== 200 || !cookie) return { reply, session: undefined };
  registerSecret(cookie);
  registerSecret(reply.body.csrf_token);
  return { reply, session: { cookie, csrf: reply.body.csrf_token, setCookie, body: reply.body } };
}

/** Signs in and fails unless it worked. */
export async function signedIn(
  baseUrl: string,
  credentials: { token: string } | { username: string; password: string },
  headers: Record<string, string> = {},
): Promise<Session> {
  const { reply, session } = await signIn(baseUrl, credentials, headers);
  if (!session) throw new Error(`sign-in failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return session;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Calls the management API with a session's cookie (and its CSRF token on a change, unless told otherwise). */
export function withSession(
  baseUrl: string,
  session: Session,
  method: string,
  route: string,
  body?: unknown,
  o: CallOptions = {},
): Promise<Reply> {
  const csrf = o.csrf === undefined ? (STATE_CHANGING.has(method) ? session.csrf : null) : o.csrf;
  return call(baseUrl, method, route, body, {
    cookie: `llmp_session=${session.cookie}`,
    ...(csrf === null ? {} : { 'x-csrf-token': csrf }),
    ...o.headers,
  });
}
