import type { FastifyRequest } from 'fastify';
import { type AccessUser, actorOf } from '../access/principal.js';
import type { ClientInfo } from '../access/sessions-service.js';
import type { AuditContext } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';

/** Who asked for a management change, from where, in which request: what its audit event records. */
export const auditContext = (req: FastifyRequest): AuditContext => ({
  actor: req.principal ? actorOf(req.principal.user) : { type: 'anonymous', id: null },
  clientIp: req.ip,
  requestId: req.id,
});

/** Where a sign-in comes from: kept with its session, and in its audit event. */
export const clientInfo = (req: FastifyRequest): ClientInfo => ({
  clientIp: req.ip,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
  requestId: req.id,
});

/** Why a request to /manage was not authenticated. */
export type AuthFailure = 'missing' | 'invalid' | 'session_expired' | 'csrf_token_invalid';

const pathOf = (req: FastifyRequest) => req.url.split('?')[0] ?? req.url;

/** Appends events that stand alone; a failure to record them is logged as an error, and the refusal still goes out. */
async function appendOrLog(
  audit: AuditTrail,
  req: FastifyRequest,
  ctx: AuditContext,
  draft: Parameters<AuditTrail['append']>[1][number],
) {
  try {
    await audit.append(ctx, [draft]);
  } catch (err) {
    req.log.error(
      { err: (err as Error).message, request_id: req.id, path: pathOf(req), action: draft.action },
      'audit: a refused management request could not be recorded',
    );
  }
}

/**
 * A request to /manage without valid credentials (or, with a session cookie, without its CSRF
 * token): one `management.auth_failed` event (the rate limiter, which runs first, bounds how many).
 */
export async function recordAuthFailure(
  audit: AuditTrail,
  req: FastifyRequest,
  reason: AuthFailure,
  details: Record<string, unknown> = {},
): Promise<void> {
  await appendOrLog(
    audit,
    req,
    { actor: { type: 'anonymous', id: null }, clientIp: req.ip, requestId: req.id },
    {
      action: 'management.auth_failed',
      target: { type: 'route', id: req.routeOptions.url ?? null },
      details: { reason, method: req.method, path: pathOf(req), ...details },
    },
  );
}

/** A signed-in user whose role does not allow the route: one `management.access_denied` event. */
export async function recordAccessDenied(audit: AuditTrail, req: FastifyRequest, user: AccessUser, needed: string) {
  await appendOrLog(
    audit,
    req,
    { actor: actorOf(user), clientIp: req.ip, requestId: req.id },
    {
      action: 'management.access_denied',
      target: { type: 'route', id: req.routeOptions.url ?? null },
      details: { role: user.role, needed, method: req.method, path: pathOf(req) },
    },
  );
}
