import type { Command } from 'commander';
import { io } from './io.js';
import { clientAction } from './manage-commands.js';
import { print } from './output.js';

interface InstancesJson {
  data: Array<Record<string, unknown> & { self: boolean }>;
  gone_after_ms: number;
  database: { kind: string; status: string };
  redis: { state: string; mode: string } | null;
}

const COLUMNS = [
  'id',
  'version',
  'state',
  'uptime_seconds',
  'in_flight',
  'last_seen_at',
  'database',
  'redis',
  'listen',
];

/** `llm-proxy instances`: the server processes sharing the database, from their heartbeats. */
export function instancesCommand(program: Command): void {
  clientAction(
    program
      .command('instances')
      .description(
        'list the running instances (version, uptime, in flight, last heartbeat) and the database and Redis',
      ),
    async (c, _a, o) => {
      const res = await c.call<InstancesJson>('GET', '/instances');
      if (o.json) return res;
      // The answering instance is marked, as `kubectl config get-contexts` marks the current one.
      const data = res.data.map((i) => ({ ...i, id: `${i.self ? '* ' : '  '}${String(i.id)}` }));
      print({ data }, false, COLUMNS);
      const redis = res.redis ? `${res.redis.state} (failure mode ${res.redis.mode})` : 'not used (no REDIS_URL)';
      io().stdout.write(
        `\n* answered this call. database (${res.database.kind}): ${res.database.status}${res.database.status === 'ok' ? '' : ' (only this instance listed)'}; redis: ${redis}\n` +
          `gone: no heartbeat for ${res.gone_after_ms / 1000} s\n`,
      );
      return undefined;
    },
  );
}
