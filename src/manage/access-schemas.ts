import { z } from 'zod';
import { ROLES } from '../access/roles.js';
import {
  normalizeUsername,
  PASSWORD_MAX,
  passwordProblem,
  USERNAME_MAX,
  usernameProblem,
} from '../access/user-rules.js';

/** Schemas of sign-in, sessions and admin users (the rules themselves are in access/user-rules.ts). */

const isoTime = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');
const role = z.enum(ROLES).describe('viewer < operator < admin');

const username = z
  .string()
  .max(USERNAME_MAX * 2)
  .transform(normalizeUsername)
  .superRefine((v, ctx) => {
    const problem = usernameProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('Lower-cased on the way in: letters, digits and . _ @ + -, up to 64 characters');

const password = z
  .string()
  .superRefine((v, ctx) => {
    const problem = passwordProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('12 to 1024 characters; stored as a scrypt hash, never returned');

export const signInBody = z
  .union([
    z.strictObject({ token: z.string().min(1).max(1000).describe('The management token') }),
    z.strictObject({
      username: z.string().min(1).max(200),
      password: z.string().min(1).max(PASSWORD_MAX),
    }),
  ])
  .describe('Either the management token, or a username and password');

export const accessUser = z.object({
  id: z.string().describe('An admin user id, `management-token`, or `oidc:<subject>`'),
  username: z.string(),
  role,
});

export const sessionView = z
  .object({
    session_id: z.string().describe('Public id of the session (not the cookie)'),
    user: accessUser,
    auth_method: z.enum(['token', 'password', 'oidc']),
    csrf_token: z
      .string()
      .describe('Send as x-csrf-token on every POST, PUT, PATCH and DELETE made with the session cookie'),
    created_at: isoTime,
    expires_at: isoTime.describe('Absolute expiry (ADMIN_SESSION_MAX_HOURS after sign-in)'),
    idle_expires_at: isoTime.describe('When the session ends unless used (ADMIN_SESSION_IDLE_MINUTES)'),
  })
  .describe('The signed-in session');

export const authMethods = z.object({
  token: z.boolean().describe('Sign-in with the management token (always)'),
  password: z.boolean().describe('At least one enabled admin user exists'),
  oidc: z.boolean().describe('Single sign-on is configured (GET /manage/oidc/login)'),
});

export const sessionItem = z.object({
  id: z.string(),
  id_hint: z.string().describe("The cookie value's last 4 characters"),
  user: accessUser,
  auth_method: z.enum(['token', 'password', 'oidc']),
  created_at: isoTime,
  last_seen_at: isoTime.describe('Updated at most once a minute'),
  expires_at: isoTime,
  idle_expires_at: isoTime,
  client_ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  current: z.boolean().describe("The caller's own session"),
});

export const user = z.object({
  id: z.string(),
  username: z.string(),
  role,
  disabled: z.boolean(),
  last_sign_in_at: isoTime.nullable(),
  created_at: isoTime,
  updated_at: isoTime,
});

export const createUser = z.strictObject({
  username,
  role,
  password,
  disabled: z.boolean().optional(),
});

export const updateUser = z.strictObject({
  username: username.optional(),
  role: role.optional(),
  password: password.optional().describe('A new password ends every session of the user'),
  disabled: z.boolean().optional().describe('true ends every session of the user'),
});

/**
 * The provider's redirect back: `code` and `state`, or `error` (and whatever else it adds). An
 * object with named parameters, not a record: the OpenAPI document lists an object's properties as
 * the query parameters, and a record's own keywords (`type`, `additionalProperties`) came out as
 * parameters of those names, which typed clients generated from the document refuse.
 */
const callbackParam = z.union([z.string(), z.array(z.string())]);
export const oidcCallbackQuery = z.looseObject({
  code: callbackParam.optional().describe('The authorization code'),
  state: callbackParam.optional().describe('The state sent with /manage/oidc/login'),
  iss: callbackParam.optional().describe('The issuer (RFC 9207), when the provider sends it'),
  error: callbackParam.optional().describe('The provider refused: access_denied, login_required, …'),
  error_description: callbackParam.optional(),
});
