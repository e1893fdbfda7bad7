/**
 * Who is signed in: the user and the session's CSRF token, in memory only. The session itself is
 * an HttpOnly cookie the page cannot read; no secret is ever in localStorage, sessionStorage or a
 * cookie that scripts can read.
 */
export type Role = 'viewer' | 'operator' | 'admin';

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

export type Auth =
  | { kind: 'none' }
  | { kind: 'session'; user: SessionUser; csrfToken: string; expiresAt: string; idleExpiresAt: string };

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
