/**
 * Who is signed in, held in memory only. With a server session the page holds the CSRF token and
 * the user (the session id is an HttpOnly cookie the page cannot read). Where the server offers no
 * sessions, the management token pasted at sign-in is the credential: it lives in this module's
 * memory only (never localStorage, sessionStorage or a cookie), so a reload signs out.
 */
export type Role = 'viewer' | 'operator' | 'admin';

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

export type Auth =
  | { kind: 'none' }
  | { kind: 'session'; user: SessionUser; csrfToken: string; expiresAt: string; idleExpiresAt: string }
  | { kind: 'bearer'; token: string; user: SessionUser };

let current: Auth = { kind: 'none' };
const listeners = new Set<() => void>();

export const getAuth = (): Auth => current;

export function setAuth(next: Auth): void {
  current = next;
  for (const fn of listeners) fn();
}

export function onAuthChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether the signed-in user's role is at least `role` (the API decides; this only shapes the page). */
export function can(role: Role): boolean {
  const a = current;
  return a.kind !== 'none' && RANK[a.user.role] >= RANK[role];
}
