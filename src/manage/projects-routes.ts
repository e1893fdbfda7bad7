import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ProjectsService } from '../projects/projects-service.js';
import type { UsageStats } from '../usage/usage-stats.js';
import { auditContext } from './audit-context.js';
import * as s from './schemas.js';

const tags = ['projects'];
const errors = { 400: s.errorBody, 401: s.errorBody, 404: s.errorBody, 409: s.errorBody };

export const projectsRoutes =
  (
    projects: ProjectsService,
    usage: UsageStats,
    purgeCache: (projectId: string) => Promise<number>,
  ): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/projects',
      {
        schema: { tags, summary: 'Create a project', body: s.createProject, response: { 201: s.project, ...errors } },
      },
      async (req, reply) => reply.code(201).send(await projects.create(req.body, auditContext(req))),
    );

    app.get(
      '/projects',
      {
        schema: {
          tags,
          summary: 'List projects',
          querystring: s.projectListQuery,
          response: { 200: s.listOf(s.project), 400: s.errorBody },
        },
      },
      async (req) => {
        const { name, ...page } = req.query;
        return projects.list(page, { nameContains: name });
      },
    );

    app.get(
      '/projects/:id',
      {
        schema: {
          tags,
          summary: 'Get a project, with its lifetime usage',
          params: s.idParams,
          response: { 200: s.projectWithUsage, ...errors },
        },
      },
      async (req) => {
        const view = await projects.get(req.params.id);
        return { ...view, usage: await usage.totalsOf('project', view.id) };
      },
    );

    app.patch(
      '/projects/:id',
      {
        schema: {
          tags,
          summary: 'Update a project',
          params: s.idParams,
          body: s.updateProject,
          response: { 200: s.project, ...errors },
        },
      },
      async (req) => projects.update(req.params.id, req.body, auditContext(req)),
    );

    app.delete(
      '/projects/:id',
      {
        schema: {
          tags,
          summary: 'Delete a project and its tokens',
          params: s.idParams,
          response: { 204: s.emptyBody, ...errors },
        },
      },
      async (req, reply) => {
        await projects.delete(req.params.id, auditContext(req));
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/projects/:id/cache',
      {
        schema: {
          tags,
          summary: "Purge a project's cached responses",
          description:
            'Removes every response the cache holds for the project (memory: this instance; Redis: every instance). Audited as project.cache_purged.',
          params: s.idParams,
          response: { 200: s.cachePurgeResult, ...errors, 503: s.errorBody },
        },
      },
      async (req) => projects.purgeCache(req.params.id, purgeCache, auditContext(req)),
    );

    app.post(
      '/projects/:id/tokens/revoke',
      {
        schema: {
          tags,
          summary: "Revoke all of a project's tokens",
          params: s.idParams,
          response: { 200: s.revokeResult, ...errors },
        },
      },
      async (req) => projects.revokeTokens(req.params.id, auditContext(req)),
    );
  };
