import type { Actor } from '../audit/audit-event.js';
import type { Role } from './roles.js';

/** Who a management request acts as. */
export interface AccessUser {
  /** An admin_users id, `management-token`, or `oidc:<subject>`. */
  id: string;
  username: string;
  role: Role;
}

export type SignInMethod = 'token' | 'password' | 'oidc';

/** The management token's own user: what a bearer request, or a session signed in with it, acts as. */
export const MANAGEMENT_TOKEN_USER: AccessUser = {
  id: 'management-token',
  username: 'management token',
  role: 'admin',
};

/** The audit actor of a user: the management token stays `management-token`; everyone else is `user:<id>`. */
export const actorOf = (user: AccessUser): Actor =>
  user.id === MANAGEMENT_TOKEN_USER.id ? { type: 'management-token', id: null } : { type: 'user', id: user.id };
