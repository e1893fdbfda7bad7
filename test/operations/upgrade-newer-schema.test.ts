import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/config.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { openDatabase } from '../../src/store/database.js';
import { KNOWN_MIGRATIONS } from '../../src/store/migrate.js';
import { runCli } from '../helpers/cli.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { startTestServer } from '../helpers/server.js';

/**
 * During a rolling upgrade the previous version keeps serving on the schema the new one migrated,
 * and after a rollback it serves on it for good. Here the current code stands in for "the previous
 * version": its database carries a migration from a future version (additive, as every migration
 * must be: test/operations/upgrade-migrations.test.ts), and `serve` must use it as it is, while
 * `migrate` refuses to touch it.
 */
const KEY = randomBytes(32).toString('base64');
const FUTURE = '9999-future-additive';

const urlOf = (c: DatabaseConfig) => (c.kind === 'postgres' ? c.url : `sqlite:${c.path}`);

/** What a future release might add: columns (nullable, or with a default), a table, an index. */
async function futureMigration(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('projects').addColumn('future_note', 'text').execute();
  await db.schema
    .alterTable('tokens')
    .addColumn('future_weight', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('usage_records').addColumn('future_region', 'text').execute();
  await db.schema
    .createTable('future_things')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text')
    .execute();
  await db.schema.createIndex('future_things_project_idx').on('future_things').column('project_id').execute();
  await db.insertInto('kysely_migration').values({ name: FUTURE, timestamp: new Date().toISOString() }).execute();
}

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
});
afterAll(async () => {
  await mock?.close();
});

describe.each(DIALECTS)('a database migrated by a newer version, on %s', (_name, make) => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await make();
    if (!database) return;
    const migrated = await runCli(['migrate', '--database-url', urlOf(database.config)], { ENCRYPTION_KEY: KEY });
    expect(migrated.code).toBe(0);
    const db = openDatabase(database.config);
    try {
      await futureMigration(db);
    } finally {
      await db.destroy();
    }
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('migrate refuses it, naming the newer migration', async (ctx) => {
    if (!database) return ctx.skip();
    const r = await runCli(['migrate', '--database-url', urlOf(database.config)], { ENCRYPTION_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `llm-proxy: the database was migrated by a newer version of llm-proxy (${FUTURE}); this version cannot ` +
        'migrate it: run the newer version\'s "llm-proxy migrate"\n',
    );
  });

  it('serve logs it and serves on it: projects, tokens, proxied requests and their usage', async (ctx) => {
    if (!database) return ctx.skip();
    for (const autoMigrate of ['true', 'false']) {
      const s = await startTestServer({
        DATABASE_URL: urlOf(database.config),
        ENCRYPTION_KEY: KEY,
        OPENAI_API_URL: mock.url,
        AUTO_MIGRATE: autoMigrate,
        USAGE_FLUSH_INTERVAL_MS: '20',
      });
      try {
        const warning = s
          .logs()
          .split('\n')
          .filter((l) => l.includes('database migrated by a newer version'))
          .map((l) => JSON.parse(l));
        expect(warning).toMatchObject([{ level: 'warn', newer: [FUTURE] }]);
        const p = await s.manage('POST', '/projects', { name: `upgraded-${autoMigrate}`, api_key: UPSTREAM_KEY });
        expect(p.status).toBe(201);
        const patched = await s.manage('PATCH', `/projects/${p.body.id}`, { max_requests: 100 });
        expect(patched.status).toBe(200);
        const t = await s.manage('POST', '/tokens', { project_id: p.body.id, max_requests: 5 });
        expect(t.status).toBe(201);
        const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: t.body.token, maxRetries: 0 });
        const reply = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hello from the previous version' }],
        });
        expect(reply.choices[0]?.message.content).toBeTruthy();
        const usage = await s.manage('GET', `/tokens/${t.body.id}`);
        expect(usage.status).toBe(200);
        expect((await s.manage('GET', '/projects')).body.data.length).toBeGreaterThan(0);
      } finally {
        await s.stop();
      }
    }
    const db = openDatabase(database.config);
    try {
      const rows = await sql<{ n: number }>`select count(*) as n from usage_records`.execute(db);
      expect(Number(rows.rows[0]?.n)).toBe(2);
    } finally {
      await db.destroy();
    }
  });
});

describe('a database with an unknown migration older than this version’s last', () => {
  it('is refused by serve: it was migrated by a different build, not a newer one', async () => {
    const [, make] = DIALECTS[0] as (typeof DIALECTS)[number];
    const database = (await make()) as TestDatabase;
    try {
      await runCli(['migrate', '--database-url', urlOf(database.config)]);
      const db: Kysely<any> = openDatabase(database.config);
      await db
        .insertInto('kysely_migration')
        .values({ name: `${KNOWN_MIGRATIONS[2]}-other-branch`, timestamp: new Date().toISOString() })
        .execute();
      await db.destroy();
      await expect(startTestServer({ DATABASE_URL: urlOf(database.config) })).rejects.toThrow(
        `the database has migrations this version does not know (${KNOWN_MIGRATIONS[2]}-other-branch) that are not ` +
          `newer than its own (last: ${KNOWN_MIGRATIONS.at(-1)}): it was migrated by a different build of llm-proxy`,
      );
    } finally {
      await database.drop();
    }
  });
});
