import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';
import type { UsageRecord } from '../store/usage-record.js';
import type { UsageSink } from './usage-sink.js';

export type WorkerRequest = { kind: 'write'; id: number; records: UsageRecord[] } | { kind: 'close' };
export type WorkerReply =
  | { id: number; ok: true; inserted: number }
  | { id: number; ok: false; message: string; code?: string | undefined };

/**
 * Sends usage batches to a worker thread that writes them to SQLite (see usage-worker.ts). A worker
 * that dies is replaced on the next batch; its unanswered batches fail, so the writer retries them.
 *
 * An idle worker does not keep the process alive (a one-shot command ends without closing it), but
 * one with a batch to answer, or one being closed, does: awaiting a thread that holds no reference
 * on the event loop lets the loop empty, and Node ends the process there, in the middle of shutdown.
 */
export class WorkerSink implements UsageSink {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (inserted: number) => void; reject: (e: Error) => void }>();

  constructor(
    /** The SQLite file the worker writes to. */
    private readonly sqlitePath: string,
    private readonly logger: Logger,
  ) {}

  write(records: UsageRecord[]): Promise<number> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ kind: 'write', id, records } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    worker.postMessage({ kind: 'close' } satisfies WorkerRequest);
    await exited;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile(), {
      workerData: this.sqlitePath,
      // The worker holds one batch at a time: a small young generation keeps its footprint low.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0 && this.worker === worker) worker.unref();
      if (!p) return;
      if (reply.ok) p.resolve(reply.inserted);
      else p.reject(Object.assign(new Error(reply.message), { code: reply.code }));
    });
    worker.on('error', (err) => this.logger.error({ err: err.message }, 'usage worker failed'));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error('usage worker exited'));
      this.pending.clear();
    });
    this.worker = worker;
    return worker;
  }
}

/**
 * The compiled worker module. Running from TypeScript sources (the test runner), the sibling is a
 * .ts file Node cannot load, so the built copy in dist/ is used (`npm test` builds first).
 */
function workerFile(): URL {
  const sibling = new URL('./usage-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  return new URL('../../dist/usage/usage-worker.js', import.meta.url);
}
