import type { FastifyRequest } from 'fastify';
import { type AuditContext, MANAGEMENT_TOKEN } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';

/** Who asked for a management change, from where, in which request: what its audit event records. */
export const auditContext = (req: FastifyRequest): AuditContext => ({
  actor: MANAGEMENT_TOKEN,
  clientIp: req.ip,
  requestId: req.id,
});

/**
 * A request to /manage without the right token: one `management.auth_failed` event (the rate
 * limiter, which runs first, bounds how many). The 401 goes out whether or not the store could
 * take the event; a failure to record it is logged as an error.
 */
export async function recordAuthFailure(
  audit: AuditTrail,
  req: FastifyRequest,
  reason: 'missing' | 'invalid',
): Promise<void> {
  const path = req.url.split('?')[0] ?? req.url;
  try {
    await audit.append({ actor: { type: 'anonymous', id: null }, clientIp: req.ip, requestId: req.id }, [
      {
        action: 'management.auth_failed',
        target: { type: 'route', id: req.routeOptions.url ?? null },
        details: { reason, method: req.method, path },
      },
    ]);
  } catch (err) {
    req.log.error(
      { err: (err as Error).message, request_id: req.id, path },
      'audit: a failed management authentication could not be recorded',
    );
  }
}
