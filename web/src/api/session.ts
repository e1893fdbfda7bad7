import { type Auth, setAuth } from './auth';
import { api, ok } from './client';
import { ApiError } from './errors';
import type { paths } from './schema';

/** How the server lets people sign in (`GET /manage/auth-methods`). */
export type AuthMethods = paths['/manage/auth-methods']['get']['responses'][200]['content']['application/json'];

type SessionReply = NonNullable<paths['/manage/session']['get']['responses'][200]['content']['application/json']>;

const toAuth = (s: SessionReply): Auth => ({
  kind: 'session',
  user: s.user,
  csrfToken: s.csrf_token,
  expiresAt: s.expires_at,
  idleExpiresAt: s.idle_expires_at,
});

export const authMethods = (): Promise<AuthMethods> => ok(api.GET('/manage/auth-methods'));

/** Restores the session the cookie names, if any (after a reload or the single sign-on redirect). */
export async function resumeSession(): Promise<boolean> {
  try {
    setAuth(toAuth(await ok(api.GET('/manage/session'))));
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
}

export async function signInWithPassword(username: string, password: string): Promise<void> {
  setAuth(toAuth(await ok(api.POST('/manage/session', { body: { username, password } }))));
}

/**
 * Signs in with the management token, into a server session: the page keeps only the session's
 * CSRF token; the token itself is sent once and forgotten.
 */
export async function signInWithToken(token: string): Promise<void> {
  setAuth(toAuth(await ok(api.POST('/manage/session', { body: { token } }))));
}

/** Ends the session on the server (so the cookie is worthless even if kept), then forgets it here. */
export async function signOut(): Promise<void> {
  try {
    await ok(api.DELETE('/manage/session'));
  } finally {
    setAuth({ kind: 'none' });
  }
}
