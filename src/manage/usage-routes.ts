import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errors } from '../errors.js';
import { type UsageStats, usageCsv } from '../usage/usage-stats.js';
import * as s from './schemas.js';

const tags = ['usage'];
const WEEK_MS = 7 * 86_400_000;

/** Usage statistics from the hourly rollups, as JSON or CSV. */
export const usageRoutes =
  (stats: UsageStats): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/usage',
      {
        schema: {
          tags,
          summary: 'Usage statistics',
          description:
            'Sums and latency percentiles from the hourly rollups, optionally grouped. `from` rounds down and ' +
            '`to` rounds up to whole hours. CSV (one row per group) with `Accept: text/csv` or `format=csv`. ' +
            "With `job_id`, one batch's or background response's usage, summed from its records.",
          querystring: s.usageQuery,
          response: {
            200: s.usageReport,
            400: s.errorBody,
            401: s.errorBody,
          },
        },
      },
      async (req, reply) => {
        const { project_id, token_id, model, from, to, group_by, format, limit, job_id } = req.query;
        const report = await stats.report({
          projectId: project_id,
          tokenId: token_id,
          model,
          from,
          to,
          groupBy: group_by,
          limit,
          jobId: job_id,
        });
        const wantsCsv = format === 'csv' || (format !== 'json' && /\btext\/csv\b/i.test(req.headers.accept ?? ''));
        if (!wantsCsv) return report;
        return (
          reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="llm-proxy-usage.csv"`)
            // A string with a non-JSON content type bypasses the JSON serializer (the schema types only JSON).
            .send(usageCsv(report) as never)
        );
      },
    );

    app.get(
      '/usage/records',
      {
        schema: {
          tags,
          summary: 'Usage records, newest first',
          description:
            'What the proxy recorded, one record per request and one per line of a batch or finished background ' +
            'response (`job_id` set), filtered by token, project or job. Read from the records, so only what ' +
            'retention (USAGE_RETENTION_DAYS) kept.',
          querystring: s.usageRecordsQuery,
          response: { 200: s.usageRecordsPage, 400: s.errorBody, 401: s.errorBody },
        },
      },
      async (req) => {
        const { token_id, project_id, job_id, kind, limit, cursor } = req.query;
        return stats.records(
          {
            tokenId: token_id,
            projectId: project_id,
            jobId: job_id,
            jobs: kind === undefined ? undefined : kind === 'job',
          },
          limit,
          cursor,
        );
      },
    );

    app.get(
      '/usage/records/:id',
      {
        schema: {
          tags,
          summary: "One request's usage record",
          description:
            'What the proxy recorded for one request, by the request id it answered with ' +
            '(`x-llm-proxy-request-id`): token, model, status, token counts, cost and timings. 404 until the ' +
            'usage writer has written it (within about USAGE_FLUSH_INTERVAL_MS), or with `wait_ms` after ' +
            'waiting that long for it. Requests the proxy refused itself (401, 429 of its own limits) are never ' +
            'recorded.',
          params: s.idParams,
          querystring: s.usageRecordQuery,
          response: { 200: s.usageRecord, 400: s.errorBody, 401: s.errorBody, 404: s.errorBody },
        },
      },
      async (req) => {
        const record = await stats.record(req.params.id, req.query.wait_ms);
        if (!record) throw errors.notFound('usage record', req.params.id);
        return record;
      },
    );

    app.get(
      '/usage/overview',
      {
        schema: {
          tags,
          summary: 'Usage overview of a window: series, totals, latency and top lists in one answer',
          description:
            'What the admin dashboard shows: sums per hour or UTC day, the totals and latency percentiles, and ' +
            'the costliest projects, tokens and models, from three reads of the rollups however long the window.',
          querystring: s.usageOverviewQuery,
          response: { 200: s.usageOverview, 400: s.errorBody, 401: s.errorBody },
        },
      },
      async (req) => {
        const { from, to = Date.now(), bucket, top, project_id } = req.query;
        return stats.overview({
          from,
          to,
          bucket: bucket ?? (to - from <= WEEK_MS ? 'hour' : 'day'),
          top,
          projectId: project_id,
        });
      },
    );
  };
