import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SessionsService } from '../access/sessions-service.js';
import * as a from './access-schemas.js';
import { auditContext } from './audit-context.js';
import { clearCookie, SESSION_COOKIE, SESSION_COOKIE_PATH } from './cookies.js';
import * as s from './schemas.js';

const tags = ['session'];
const errors = { 400: s.errorBody, 401: s.errorBody, 403: s.errorBody, 404: s.errorBody };

/** Every signed-in session (admins only), and ending one. */
export const sessionsRoutes =
  (sessions: SessionsService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/sessions',
      {
        schema: {
          tags,
          summary: 'List active sessions',
          querystring: s.pageQuery,
          response: { 200: s.listOf(a.sessionItem), ...errors },
        },
      },
      async (req) => sessions.list(req.query, req.principal?.session?.row.id),
    );

    app.delete(
      '/sessions/:id',
      {
        schema: {
          tags,
          summary: 'End a session (its cookie stops working on every instance)',
          params: s.idParams,
          response: { 204: s.emptyBody, ...errors },
        },
      },
      async (req, reply) => {
        await sessions.end(req.params.id, auditContext(req), 'session.ended');
        if (req.params.id === req.principal?.session?.row.id)
          clearCookie(req, reply, SESSION_COOKIE, SESSION_COOKIE_PATH, 'Strict');
        return reply.code(204).send(null);
      },
    );
  };
