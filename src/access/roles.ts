import type { Role } from '../config/config.js';

export type { Role };

/** Every role, weakest first: each may do what the ones before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const satisfies readonly Role[];

export const isRole = (v: string): v is Role => (ROLES as readonly string[]).includes(v);

/** True when `role` may do what `needed` may. */
export const roleAtLeast = (role: Role, needed: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(needed);

/** The strongest of some roles (undefined for none). */
export function strongest(roles: readonly Role[]): Role | undefined {
  let best: Role | undefined;
  for (const r of roles) if (best === undefined || roleAtLeast(r, best)) best = r;
  return best;
}
