import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import * as s from './schemas.js';

const tags = ['audit'];

/** The audit trail, newest first. `llm-proxy audit verify` checks its chain (it reads the store directly). */
export const auditRoutes =
  (audit: AuditTrail): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/audit',
      {
        schema: {
          tags,
          summary: 'List audit events, newest first',
          description:
            'Management changes, failed management authentications and refused proxy requests (per token, ' +
            'reason and minute), with who, from where and what changed. Filters combine; `action` takes an ' +
            'action or a glob (`token.*`, `*.deleted`); a pattern that matches no action is a 400 listing them.',
          querystring: s.auditQuery,
          response: { 200: s.listOf(s.auditEvent), 400: s.errorBody, 401: s.errorBody },
        },
      },
      async (req) => {
        const { limit, cursor, action, target_type, target_id, actor, from, to } = req.query;
        const split = actor?.indexOf(':') ?? -1;
        return audit.list(
          {
            action,
            targetType: target_type,
            targetId: target_id,
            actorType: split < 0 ? actor : actor?.slice(0, split),
            actorId: split < 0 ? undefined : actor?.slice(split + 1),
            from,
            to,
          },
          { limit, cursor },
        );
      },
    );
  };
