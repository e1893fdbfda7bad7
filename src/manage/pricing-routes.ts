import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PricingService } from '../usage/pricing-service.js';
import { auditContext } from './audit-context.js';
import * as s from './schemas.js';

const tags = ['pricing'];
const errors = { 400: s.errorBody, 401: s.errorBody, 404: s.errorBody };

/** The pricing table in effect, and overrides that apply to the next request at once. */
export const pricingRoutes =
  (pricing: PricingService): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/pricing',
      {
        schema: {
          tags,
          summary: 'The effective pricing table (USD per 1M tokens)',
          response: { 200: s.pricingTable, 401: s.errorBody },
        },
      },
      async () => pricing.view(),
    );

    app.put(
      '/pricing/:model',
      {
        schema: {
          tags,
          summary: "Set a model's price (an override, applied to the next request)",
          params: s.modelParams,
          body: s.setPrice,
          response: { 200: s.priceEntry, ...errors },
        },
      },
      async (req) => pricing.set(req.params.model, req.body, auditContext(req)),
    );

    app.delete(
      '/pricing/:model',
      {
        schema: {
          tags,
          summary: "Remove a model's override (back to the pricing files)",
          params: s.modelParams,
          response: { 204: s.emptyBody, ...errors },
        },
      },
      async (req, reply) => {
        await pricing.unset(req.params.model, auditContext(req));
        return reply.code(204).send(null);
      },
    );
  };
