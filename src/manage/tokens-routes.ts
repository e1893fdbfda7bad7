import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TokensService } from '../tokens/tokens-service.js';
import type { UsageStats } from '../usage/usage-stats.js';
import { auditContext } from './audit-context.js';
import * as s from './schemas.js';

const tags = ['tokens'];
const errors = { 400: s.errorBody, 401: s.errorBody, 404: s.errorBody };

export const tokensRoutes =
  (tokens: TokensService, usage: UsageStats): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/tokens',
      {
        schema: {
          tags,
          summary: 'Issue a token (the plaintext is returned only here)',
          body: s.createToken,
          response: { 201: s.createdToken, ...errors },
        },
      },
      async (req, reply) => reply.code(201).send(await tokens.issue(req.body, auditContext(req))),
    );

    app.post(
      '/tokens/batch',
      {
        schema: {
          tags,
          summary: 'Issue many tokens with the same settings in one transaction (plaintexts returned only here)',
          body: s.createTokenBatch,
          response: { 201: z.object({ data: z.array(s.createdToken) }), ...errors },
        },
      },
      async (req, reply) => reply.code(201).send({ data: await tokens.issueBatch(req.body, auditContext(req)) }),
    );

    app.post(
      '/tokens/revoke',
      {
        schema: {
          tags,
          summary: 'Revoke the active tokens matching a filter (every given condition must hold)',
          body: s.revokeTokensWhere,
          response: { 200: s.revokeResult, ...errors },
        },
      },
      async (req) => tokens.revokeWhere(req.body, auditContext(req)),
    );

    app.get(
      '/tokens',
      {
        schema: {
          tags,
          summary: 'List tokens',
          description:
            'Filters combine (AND). Sorted by `sort` then id; the cursor carries the sort key, so pass it back with the same `sort` and `order`.',
          querystring: s.tokenListQuery,
          response: { 200: s.listOf(s.token), 400: s.errorBody },
        },
      },
      async (req) => {
        const { project_id, active, status, expires_before, name, sort, order, ...page } = req.query;
        return tokens.list(
          {
            projectId: project_id,
            active: active === undefined ? undefined : active === 'true',
            status,
            expiresBefore: expires_before,
            nameContains: name,
          },
          page,
          { sort, desc: order === 'desc' },
        );
      },
    );

    app.get(
      '/tokens/:id',
      {
        schema: {
          tags,
          summary: 'Get a token, with its lifetime usage',
          params: s.idParams,
          response: { 200: s.tokenWithUsage, ...errors },
        },
      },
      async (req) => {
        const view = await tokens.get(req.params.id);
        return { ...view, usage: await usage.totalsOf('token', view.id) };
      },
    );

    app.patch(
      '/tokens/:id',
      {
        schema: {
          tags,
          summary: 'Update a token',
          params: s.idParams,
          body: s.updateToken,
          response: { 200: s.token, ...errors },
        },
      },
      async (req) => tokens.update(req.params.id, req.body, auditContext(req)),
    );

    app.delete(
      '/tokens/:id',
      {
        schema: { tags, summary: 'Revoke a token', params: s.idParams, response: { 204: s.emptyBody, ...errors } },
      },
      async (req, reply) => {
        await tokens.revoke(req.params.id, auditContext(req));
        return reply.code(204).send(null);
      },
    );
  };
