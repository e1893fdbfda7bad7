import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseConfig } from '../config/config.js';
import { openDatabase } from '../store/database.js';
import { UsageRepo } from '../store/usage-repo.js';
import { toBatch } from './batch.js';
import type { WorkerReply, WorkerRequest } from './worker-sink.js';

/**
 * Worker thread that owns a second SQLite connection and writes usage batches on it, so the
 * synchronous better-sqlite3 writes never stall the proxy's event loop. Same repository code as
 * the main thread; WAL mode lets both connections work side by side.
 */
const db = openDatabase(workerData as DatabaseConfig);
const repo = new UsageRepo(db);
const port = parentPort;
if (!port) throw new Error('usage-worker must run as a worker thread');

port.on('message', (msg: WorkerRequest) => {
  if (msg.kind === 'close') {
    void db.destroy().then(() => port.close());
    return;
  }
  repo.writeBatch(toBatch(msg.rows)).then(
    () => port.postMessage({ id: msg.id, ok: true } satisfies WorkerReply),
    (err: unknown) => {
      const e = err as { message?: string; code?: string };
      port.postMessage({
        id: msg.id,
        ok: false,
        message: e.message ?? String(err),
        code: e.code,
      } satisfies WorkerReply);
    },
  );
});
