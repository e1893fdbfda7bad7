import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/config.js';
import { POSTGRES_URL, serviceAvailable } from './services.js';

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

/** A fresh SQLite file in a temp directory. */
export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-db-'));
  return {
    config: { kind: 'sqlite', path: path.join(dir, 'test.db') },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A throwaway PostgreSQL database created for this run and dropped after it. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `llmp_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    config: { kind: 'postgres', url: POSTGRES_URL.replace(/\/test$/, `/${name}`) },
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Every dialect the store runs on, declared once: contract suites loop over it with
 * `describe.each(DIALECTS)`. `make` resolves undefined when the database is not there (the suite
 * skips; under REQUIRE_SERVICES=1 serviceAvailable throws instead).
 */
export const DIALECTS: Array<[name: string, make: () => Promise<TestDatabase | undefined>]> = [
  ['sqlite', async () => sqliteDatabase()],
  ['postgres', async () => ((await serviceAvailable('postgres')) ? postgresDatabase() : undefined)],
];
