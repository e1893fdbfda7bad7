import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ProjectKeyView } from '../projects/project-key-view.js';
import type { ProjectKeysService } from '../projects/project-keys-service.js';
import type { KeyCooldown } from '../proxy/key-health.js';
import { toIso } from '../shared/clock.js';
import { auditContext } from './audit-context.js';
import * as s from './schemas.js';

const tags = ['projects'];
const errors = { 400: s.errorBody, 401: s.errorBody, 404: s.errorBody, 409: s.errorBody };

/** Where a key is cooling down, by key id (key-health.ts); the instance's own view. */
export type CooldownsOf = (keyId: string) => KeyCooldown[];

/**
 * A project's upstream keys (its key pool): the key is write-only, shown as a masked hint, with
 * its cooldowns (which the audit trail does not record: they are state, not settings).
 */
export const projectKeysRoutes =
  (keys: ProjectKeysService, cooldownsOf: CooldownsOf): FastifyPluginAsyncZod =>
  async (app) => {
    const shown = (view: ProjectKeyView) => ({
      ...view,
      cooldowns: cooldownsOf(view.id).map((c) => ({ ...c, until: toIso(c.until) as string })),
    });
    app.get(
      '/projects/:id/keys',
      {
        schema: {
          tags,
          summary: "List a project's upstream keys",
          params: s.idParams,
          querystring: s.pageQuery,
          response: { 200: s.listOf(s.projectKey), ...errors },
        },
      },
      async (req) => {
        const page = await keys.list(req.params.id, req.query);
        return { ...page, data: page.data.map(shown) };
      },
    );

    app.post(
      '/projects/:id/keys',
      {
        schema: {
          tags,
          summary: 'Add an upstream key to a project',
          params: s.idParams,
          body: s.createProjectKey,
          response: { 201: s.projectKey, ...errors },
        },
      },
      async (req, reply) => reply.code(201).send(shown(await keys.create(req.params.id, req.body, auditContext(req)))),
    );

    app.patch(
      '/projects/:id/keys/:key_id',
      {
        schema: {
          tags,
          summary: 'Update, rotate, enable or disable an upstream key',
          params: s.projectKeyParams,
          body: s.updateProjectKey,
          response: { 200: s.projectKey, ...errors },
        },
      },
      async (req) => shown(await keys.update(req.params.id, req.params.key_id, req.body, auditContext(req))),
    );

    app.delete(
      '/projects/:id/keys/:key_id',
      {
        schema: {
          tags,
          summary: 'Remove an upstream key',
          params: s.projectKeyParams,
          response: { 204: s.emptyBody, ...errors },
        },
      },
      async (req, reply) => {
        await keys.delete(req.params.id, req.params.key_id, auditContext(req));
        return reply.code(204).send(null);
      },
    );
  };
