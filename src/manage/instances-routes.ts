import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InstancesRegistry } from '../instances/registry.js';
import * as s from './schemas.js';

const tags = ['instances'];
const isoTime = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');

const instance = z.object({
  id: z.string().describe('The instance id: host:pid:random (random per process start)'),
  host: z.string(),
  pid: z.number().int(),
  worker: z
    .number()
    .int()
    .nullable()
    .describe('Its WORKERS slot (0 to N-1) when the process is one of several on the host; null otherwise'),
  version: z.string(),
  listen: z.string().nullable().describe('The URL the process listens on, as it logged it'),
  state: z
    .enum(['live', 'draining', 'gone'])
    .describe(
      '`live`: heartbeats arrive; `draining`: shutting down gracefully; `gone`: no heartbeat for `gone_after_ms`',
    ),
  started_at: isoTime,
  last_seen_at: isoTime.describe('Its last heartbeat'),
  uptime_seconds: z.number().int().describe('How long it has run (until its last heartbeat when gone)'),
  in_flight: z.number().int().describe('Proxy requests in flight at its last heartbeat'),
  database: z.string().describe('The database as it saw it at its last heartbeat: `ok` or `failing: …`'),
  redis: z.string().nullable().describe('The Redis limiter as it saw it (`ok`, `failing`); null without REDIS_URL'),
  self: z.boolean().describe('Whether this is the instance that answered'),
});

export const instancesListing = z.object({
  data: z.array(instance),
  next_cursor: z.null().describe('Always null: every instance is on one page'),
  gone_after_ms: z.number().int().describe('INSTANCE_GONE_AFTER_MS'),
  database: z
    .object({ kind: z.string(), status: z.enum(['ok', 'unreachable']) })
    .describe('The database as the answering instance sees it; while `unreachable`, `data` lists only that instance'),
  redis: z
    .object({ state: z.string(), mode: z.string() })
    .nullable()
    .describe(
      'The Redis limiter as the answering instance sees it (REDIS_FAILURE_MODE as `mode`); null without REDIS_URL',
    ),
});

/** The server processes sharing the database, from their heartbeats (instances/registry.ts). */
export const instancesRoutes =
  (instances: InstancesRegistry): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/instances',
      {
        schema: {
          tags,
          summary: 'List the running instances, and the database and Redis as this one sees them',
          description:
            'Every server process sharing the database, oldest first, from the heartbeat each writes every ' +
            'INSTANCE_HEARTBEAT_MS. A graceful stop removes an instance at once; one that died shows as `gone` ' +
            'after INSTANCE_GONE_AFTER_MS and is removed by the maintenance job a day later.',
          response: { 200: instancesListing, 401: s.errorBody, 403: s.errorBody },
        },
      },
      async () => instances.list(),
    );
  };
