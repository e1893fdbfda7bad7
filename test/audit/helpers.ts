import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { AuditEventView } from '../../src/audit/audit-view.js';
import type { Clock } from '../../src/shared/clock.js';
import type { TestDatabase } from '../helpers/databases.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import type { TestServer } from '../helpers/server.js';

/** The settings that point a server (or the CLI) at a test database, with the given encryption key. */
export function dbEnv(tdb: TestDatabase, encryptionKey: string): Record<string, string> {
  return {
    DATABASE_URL: tdb.config.kind === 'postgres' ? tdb.config.url : `sqlite:${tdb.config.path}`,
    ENCRYPTION_KEY: encryptionKey,
  };
}

/** Every audit event matching the query, oldest first, read page by page through GET /manage/audit. */
export async function auditEvents(s: TestServer, query: Record<string, string> = {}): Promise<AuditEventView[]> {
  const out: AuditEventView[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ ...query, limit: '1000', ...(cursor ? { cursor } : {}) });
    const res = await s.manage('GET', `/audit?${q}`);
    if (res.status !== 200) throw new Error(`GET /manage/audit: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...(res.body.data as AuditEventView[]));
    cursor = res.body.next_cursor;
  } while (cursor);
  return out.reverse();
}

/** The one event of this action on this target (fails when there is none or more than one). */
export async function eventOf(s: TestServer, action: string, targetId?: string): Promise<AuditEventView> {
  const events = await auditEvents(s, { action, ...(targetId ? { target_id: targetId } : {}) });
  if (events.length !== 1) throw new Error(`expected one ${action} event, found ${events.length}`);
  return events[0] as AuditEventView;
}

/**
 * For a `describe.each(DIALECTS)` suite: a proxy stack on a fresh database of that dialect (its own
 * encryption key, no background maintenance), stopped and dropped after the suite; every test skips
 * where the database is absent.
 */
export function stackOn(
  make: () => Promise<TestDatabase | undefined>,
  opts: { env?: Record<string, string>; clock?: Clock } = {},
): { readonly st: ProxyStack } {
  let tdb: TestDatabase | undefined;
  let st: ProxyStack | undefined;
  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    st = await startProxyStack({
      env: { ...dbEnv(tdb, randomBytes(32).toString('base64')), MAINTENANCE_INTERVAL_MS: '0', ...opts.env },
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  });
  afterAll(async () => {
    await st?.stop();
    await tdb?.drop();
  });
  beforeEach((ctx) => {
    if (!tdb) ctx.skip();
  });
  return {
    get st() {
      return st as ProxyStack;
    },
  };
}
