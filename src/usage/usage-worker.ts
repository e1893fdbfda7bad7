import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../store/sqlite.js';
import { SqliteUsageWriter } from '../store/sqlite-usage-writer.js';
import { toUsageRow } from '../store/usage-record.js';
import { toBatch } from './batch.js';
import type { WorkerReply, WorkerRequest } from './worker-sink.js';

/**
 * Worker thread that owns a second SQLite connection and writes usage batches on it, so the
 * synchronous better-sqlite3 writes never stall the proxy's event loop. It loads only
 * better-sqlite3 (no Kysely, no pg) and writes with prepared statements, which keeps its memory
 * and CPU small; WAL mode lets both connections work side by side.
 */
const port = parentPort;
if (!port) throw new Error('usage-worker must run as a worker thread');
const db = openSqlite(workerData as string);
const writer = new SqliteUsageWriter(db);

port.on('message', (msg: WorkerRequest) => {
  if (msg.kind === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: WorkerReply;
  try {
    reply = { id: msg.id, ok: true, inserted: writer.write(toBatch(msg.records.map(toUsageRow))) };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    reply = { id: msg.id, ok: false, message: e.message ?? String(err), code: e.code };
  }
  port.postMessage(reply);
});
