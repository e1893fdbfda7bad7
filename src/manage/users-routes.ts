import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { UsersService } from '../access/users-service.js';
import * as a from './access-schemas.js';
import { auditContext } from './audit-context.js';
import * as s from './schemas.js';

const tags = ['users'];
const errors = { 400: s.errorBody, 401: s.errorBody, 403: s.errorBody, 404: s.errorBody, 409: s.errorBody };

/** Admin users (admins only): who may sign in with a password, and their role. */
export const usersRoutes =
  (users: UsersService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/users',
      {
        schema: {
          tags,
          summary: 'List admin users',
          querystring: s.pageQuery,
          response: { 200: s.listOf(a.user), ...errors },
        },
      },
      async (req) => users.list(req.query),
    );

    app.get(
      '/users/:id',
      { schema: { tags, summary: 'Get an admin user', params: s.idParams, response: { 200: a.user, ...errors } } },
      async (req) => users.get(req.params.id),
    );

    app.post(
      '/users',
      {
        schema: { tags, summary: 'Create an admin user', body: a.createUser, response: { 201: a.user, ...errors } },
      },
      async (req, reply) => reply.code(201).send(await users.create(req.body, auditContext(req))),
    );

    app.patch(
      '/users/:id',
      {
        schema: {
          tags,
          summary: 'Update an admin user (a new role applies to their sessions at once)',
          description: 'A new password or `disabled: true` ends every session of the user.',
          params: s.idParams,
          body: a.updateUser,
          response: { 200: a.user, ...errors },
        },
      },
      async (req) => users.update(req.params.id, req.body, auditContext(req)),
    );

    app.delete(
      '/users/:id',
      {
        schema: {
          tags,
          summary: 'Delete an admin user and end their sessions',
          params: s.idParams,
          response: { 204: s.emptyBody, ...errors },
        },
      },
      async (req, reply) => {
        await users.delete(req.params.id, auditContext(req));
        return reply.code(204).send(null);
      },
    );
  };
