import { chmodSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { makeDir } from '../shared/make-dir.js';

/**
 * A SQLite connection with the settings every connection of ours uses (the store's and the usage
 * worker's). Kept apart from database.ts so the worker loads neither Kysely nor pg.
 */
export function openSqlite(file: string): SQLite.Database {
  if (file !== ':memory:') makeDir(path.dirname(file), 0o700);
  const sqlite = new SQLite(file);
  // Only the owner reads the database (SQLite gives its -wal and -shm files the same mode).
  if (file !== ':memory:') chmodSync(file, 0o600);
  // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}
