import type { Db } from './database.js';

/**
 * Runs `fn` in a transaction on `db` (in the caller's, when `db` is one already): committed when it
 * returns, rolled back when it or the commit throws, and the first error is the one rethrown.
 * Kysely's `transaction()` rethrows the rollback's error instead, and SQLite rolls back on its own
 * after some errors (SQLITE_FULL), so its ROLLBACK then fails with "no transaction is active" and
 * would hide the cause (a full disk must stay a 503 `store_unavailable`, not a 500).
 */
export async function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  const trx = await db.startTransaction().execute();
  let result: T;
  try {
    result = await fn(trx);
    await trx.commit().execute();
  } catch (err) {
    if (!trx.isCommitted && !trx.isRolledBack)
      await trx
        .rollback()
        .execute()
        .catch(() => {});
    throw err;
  }
  return result;
}
