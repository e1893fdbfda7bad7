import { type Auth, type SessionUser, setAuth } from './auth';
import { requestJson } from './client';
import { ApiError, toApiError } from './errors';

/** How the server lets people sign in (`GET /manage/auth-methods`). */
export interface AuthMethods {
  token: boolean;
  password: boolean;
  oidc: boolean;
  /** Whether the server has sessions at all (an older server answers 404: only the pasted token works). */
  sessions: boolean;
}

interface SessionReply {
  user: SessionUser;
  csrf_token: string;
  expires_at: string;
  idle_expires_at: string;
}

const toAuth = (s: SessionReply): Auth => ({
  kind: 'session',
  user: s.user,
  csrfToken: s.csrf_token,
  expiresAt: s.expires_at,
  idleExpiresAt: s.idle_expires_at,
});

export async function authMethods(): Promise<AuthMethods> {
  try {
    const m = await requestJson<Omit<AuthMethods, 'sessions'>>('GET', '/manage/auth-methods');
    return { ...m, sessions: true };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      return { token: true, password: false, oidc: false, sessions: false };
    throw err;
  }
}

/** Restores the session the cookie names, if any (after a reload or the OIDC redirect). */
export async function resumeSession(methods: AuthMethods): Promise<boolean> {
  if (!methods.sessions) return false;
  try {
    setAuth(toAuth(await requestJson<SessionReply>('GET', '/manage/session')));
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
}

export async function signInWithPassword(username: string, password: string): Promise<void> {
  setAuth(toAuth(await requestJson<SessionReply>('POST', '/manage/session', { username, password })));
}

/**
 * Signs in with the management token: into a server session where the server has them (the token
 * then leaves the page's memory), else by keeping it in memory only, checked by one API call.
 */
export async function signInWithToken(token: string, methods: AuthMethods): Promise<void> {
  if (methods.sessions) {
    setAuth(toAuth(await requestJson<SessionReply>('POST', '/manage/session', { token })));
    return;
  }
  // Checked before it is kept, so a wrong token never shows the app for a moment.
  const res = await fetch('/manage/projects?limit=1', {
    headers: { authorization: `Bearer ${token}` },
    credentials: 'omit',
  });
  if (res.status === 401) throw new ApiError(401, 'invalid_credentials', 'Wrong management token.');
  if (!res.ok) throw toApiError(res, await res.json().catch(() => null));
  setAuth({ kind: 'bearer', token, user: { id: 'management-token', username: 'management token', role: 'admin' } });
}

/** Ends the session on the server (so the cookie is worthless even if kept), then forgets it here. */
export async function signOut(methods: AuthMethods): Promise<void> {
  try {
    if (methods.sessions) await requestJson('DELETE', '/manage/session');
  } finally {
    setAuth({ kind: 'none' });
  }
}
