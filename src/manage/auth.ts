import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AccessUser, MANAGEMENT_TOKEN_USER } from '../access/principal.js';
import { roleAtLeast } from '../access/roles.js';
import type { LiveSession, SessionsService } from '../access/sessions-service.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { safeEqual } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type AuthFailure, recordAccessDenied, recordAuthFailure } from './audit-context.js';
import { clearCookie, cookieOf, SESSION_COOKIE, SESSION_COOKIE_PATH } from './cookies.js';
import type { RouteAccess } from './route-access.js';

/** Who a request acts as: the management token's user, or a session's. */
export interface Principal {
  user: AccessUser;
  /** Set when the request came with a session cookie (not with the bearer token). */
  session: LiveSession | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** The route's rule from ROUTE_ACCESS, set when the route is registered. */
    access?: RouteAccess;
  }
}

/** Methods that change something: with a session cookie they must carry the session's CSRF token. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const CSRF_HEADER = 'x-csrf-token';

/** Extracts a bearer credential; returns undefined when absent or malformed. */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export interface AuthDeps {
  managementToken: string;
  sessions: SessionsService;
  audit: AuditTrail;
}

/**
 * onRequest hook of every management route: authenticates (the bearer token, compared in constant
 * time, else the session cookie, with its CSRF token on every state-changing request), then applies
 * the route's rule from ROUTE_ACCESS. A bearer token that is present decides alone: a wrong one is
 * refused even beside a valid cookie. Each refusal is audited first (the rate limiter, which runs
 * before this hook, bounds how many events that can be).
 */
export function authenticate(deps: AuthDeps) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // A route without a rule cannot be registered (applyRouteAccess); admin is the safe reading.
    const access = req.routeOptions.config.access ?? 'admin';
    if (access === 'public') return;
    const refuse = async (reason: AuthFailure, err: Error, details?: Record<string, unknown>) => {
      await recordAuthFailure(deps.audit, req, reason, details);
      throw err;
    };
    const given = bearer(req);
    if (given !== undefined) {
      if (!safeEqual(given, deps.managementToken)) return refuse('invalid', errors.managementUnauthorized());
      req.principal = { user: MANAGEMENT_TOKEN_USER, session: undefined };
    } else {
      const secret = cookieOf(req, SESSION_COOKIE);
      if (secret === undefined) {
        // "Am I signed in?" without any credential (the admin UI's first call) is no failed sign-in.
        if (access === 'session' && req.method === 'GET') throw errors.sessionRequired();
        return refuse('missing', access === 'session' ? errors.sessionRequired() : errors.managementUnauthorized());
      }
      const session = await deps.sessions.resolve(secret);
      if (!session) {
        clearCookie(req, reply, SESSION_COOKIE, SESSION_COOKIE_PATH, 'Strict');
        return refuse('session_expired', errors.sessionExpired());
      }
      if (STATE_CHANGING.has(req.method)) {
        const csrf = req.headers[CSRF_HEADER];
        if (typeof csrf !== 'string' || !safeEqual(csrf, session.csrfToken))
          return refuse('csrf_token_invalid', errors.csrfTokenInvalid(), { session_id: session.row.id });
      }
      req.principal = { user: session.user, session };
    }
    if (access === 'session') {
      if (!req.principal.session) throw errors.sessionRequired();
      return;
    }
    if (!roleAtLeast(req.principal.user.role, access)) {
      await recordAccessDenied(deps.audit, req, req.principal.user, access);
      throw errors.insufficientRole(req.principal.user.role, access);
    }
  };
}

/** onRequest hook factory for routes outside /manage that take only the bearer token (GET /metrics: scrapers). */
export function requireManagementToken(expected: string) {
  return async (req: FastifyRequest): Promise<void> => {
    const given = bearer(req);
    if (given !== undefined && safeEqual(given, expected)) return;
    throw errors.managementUnauthorized();
  };
}
