import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Maintenance } from '../../src/maintenance/maintenance.js';
import { LeasesRepo } from '../../src/store/leases-repo.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { until } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

/**
 * Two instances on one PostgreSQL database, maintenance every 50 ms: the periodic passes run in the
 * one holding the `maintenance` lease, never in both; when it stops it gives the lease back and
 * the other takes the passes over.
 */
describe('maintenance on two instances sharing a PostgreSQL database', () => {
  let tdb: TestDatabase | undefined;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    if (!(await serviceAvailable('postgres'))) return;
    tdb = await postgresDatabase();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await tdb?.drop();
  });

  it('one instance runs every pass; the other skips them, and takes over when the first stops', async (ctx) => {
    if (tdb?.config.kind !== 'postgres') return ctx.skip();
    const env = {
      DATABASE_URL: tdb.config.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MAINTENANCE_INTERVAL_MS: '50',
    };
    servers.push(await startTestServer(env), await startTestServer(env));
    const [m1, m2] = servers.map((s) => s.server.runtime.maintenance) as [Maintenance, Maintenance];
    // Each instance came to several passes: enough that two runners would have shown.
    const attempts = (m: Maintenance) => m.passes.run + m.passes.skipped;
    await until(() => attempts(m1) >= 3 && attempts(m2) >= 3);
    const runners = [m1, m2].filter((m) => m.passes.run > 0);
    expect(runners).toHaveLength(1);
    const holderIndex = m1.passes.run > 0 ? 0 : 1;
    const holder = servers[holderIndex] as TestServer;
    const other = servers[1 - holderIndex] as TestServer;
    expect(other.server.runtime.maintenance.passes.run).toBe(0);

    const leases = new LeasesRepo(other.server.runtime.db);
    expect((await leases.current('maintenance'))?.holder).toBe(holder.server.runtime.instanceId);
    expect(holder.logs()).toContain(`"instance":"${holder.server.runtime.instanceId}","msg":"lease acquired"`);
    expect(holder.server.runtime.instanceId).not.toBe(other.server.runtime.instanceId);

    // The holder stops: the lease is released, not left to expire, and the other runs the next pass.
    const ranBefore = holder.server.runtime.maintenance.passes.run;
    await holder.stop();
    servers.splice(holderIndex, 1);
    expect(holder.server.runtime.maintenance.passes.run).toBe(ranBefore);
    await until(() => other.server.runtime.maintenance.passes.run >= 2);
    expect((await leases.current('maintenance'))?.holder).toBe(other.server.runtime.instanceId);
  });
});
