import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { prepareSchema } from '../runtime.js';
import { loadSecrets, type Secrets } from '../startup/secret-files.js';
import { openDatabase } from '../store/database.js';
import { HostMetrics } from './host-metrics.js';
import { isOurs, type Snapshot, type ToPrimary, type ToWorker } from './messages.js';
import { RestartBackoff } from './restart-backoff.js';

/** A worker that does not hand over its metrics in this time is counted with its last snapshot. */
const COLLECT_TIMEOUT_MS = 5_000;
/** After SHUTDOWN_DELAY_MS, SHUTDOWN_TIMEOUT_MS and this much more, a worker still draining is killed. */
const KILL_GRACE_MS = 10_000;

/** What the primary learnt from its workers once they all serve: for the start banner. */
export interface ClusterStarted {
  url: string;
  metricsUrl: string | undefined;
  adminUi: boolean;
  secrets: Secrets;
  pids: number[];
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  ready: boolean;
  replacing: NodeJS.Timeout | undefined;
}

/**
 * Things every worker would otherwise do at once on the first start, done once before they are
 * forked: generating the secret files (each worker writing its own would race) and migrating.
 */
export async function prepareDataDir(config: Config, logger: Logger): Promise<Secrets> {
  const db = openDatabase(config.database);
  try {
    await prepareSchema(db, config, logger);
  } finally {
    await db.destroy();
  }
  return loadSecrets(config);
}

/**
 * The primary of WORKERS > 1 (node:cluster): forks one worker per slot, tells each its slot,
 * replaces one that dies (with RestartBackoff), answers their /metrics with the whole host's text
 * (HostMetrics), and on SIGTERM/SIGINT tells them all to drain and exits once every one has. It
 * serves no request itself. `onStarted` runs once every worker first serves; if one fails before
 * that, the others are stopped and the returned promise rejects.
 */
export function runPrimary(
  config: Config,
  logger: Logger,
  secrets: Secrets,
  onStarted: (s: ClusterStarted) => void,
): Promise<void> {
  const count = config.workers;
  const slots: Slot[] = [];
  const metrics = new HostMetrics();
  const backoff = new RestartBackoff();
  let started = false;
  let stopping = false;
  let exits = 0;
  let nextCollect = 0;
  const collecting = new Map<number, { waiting: Set<number>; done(): void }>();

  return new Promise<void>((resolveRun, rejectRun) => {
    const fork = (slot: number) => {
      const s = slots[slot] as Slot;
      s.replacing = undefined;
      s.ready = false;
      s.startedAt = Date.now();
      const worker = cluster.fork();
      s.worker = worker;
      worker.on('message', (m: unknown) => {
        if (isOurs<ToPrimary>(m)) void receive(slot, worker, m);
      });
    };

    const send = (worker: Worker, m: ToWorker) => {
      if (worker.isConnected()) worker.send(m);
    };

    const receive = async (slot: number, worker: Worker, m: ToPrimary) => {
      const s = slots[slot] as Slot;
      switch (m.type) {
        case 'llmp:hello':
          send(worker, { type: 'llmp:init', slot, count });
          return;
        case 'llmp:ready': {
          s.ready = true;
          logger.info({ slot, pid: worker.process.pid }, 'worker serving');
          if (!started && slots.every((x) => x.ready)) {
            started = true;
            onStarted({ ...m, secrets, pids: slots.map((x) => x.worker?.process.pid ?? 0) });
          }
          return;
        }
        case 'llmp:snapshot': {
          // Only from the slot's current worker (a dead one's last word must not overwrite its successor's).
          if (m.metrics && s.worker === worker) metrics.update(slot, m.metrics);
          const c = collecting.get(m.id);
          c?.waiting.delete(slot);
          if (c && c.waiting.size === 0) c.done();
          return;
        }
        case 'llmp:scrape':
          try {
            send(worker, { type: 'llmp:scraped', id: m.id, text: await hostText() });
          } catch (err) {
            send(worker, { type: 'llmp:scrape-failed', id: m.id, message: (err as Error).message });
          }
          return;
        default:
          return;
      }
    };

    /** Asks every serving worker for its snapshot, then merges: a worker that dies or is slow counts with its last. */
    const hostText = async (): Promise<string> => {
      const id = nextCollect++;
      const asked = slots.flatMap((s, slot) => (s.ready && s.worker?.isConnected() ? [slot] : []));
      if (asked.length > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => done(), COLLECT_TIMEOUT_MS);
          const done = () => {
            clearTimeout(timer);
            collecting.delete(id);
            resolve();
          };
          collecting.set(id, { waiting: new Set(asked), done });
          for (const slot of asked) send((slots[slot] as Slot).worker as Worker, { type: 'llmp:collect', id });
        });
      }
      return metrics.text(primaryMetrics());
    };

    const primaryMetrics = (): Snapshot => [
      {
        name: 'llm_proxy_workers',
        help: 'Worker processes serving now (WORKERS).',
        type: 'gauge',
        aggregator: 'sum',
        values: [{ labels: {}, value: slots.filter((s) => s.ready).length }],
      },
      {
        name: 'llm_proxy_worker_exits_total',
        help: 'Worker processes that ended other than by shutdown (each is replaced).',
        type: 'counter',
        aggregator: 'sum',
        values: [{ labels: {}, value: exits }],
      },
    ];

    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      const slot = slots.findIndex((s) => s.worker === worker);
      if (slot < 0) return;
      const s = slots[slot] as Slot;
      s.worker = undefined;
      s.ready = false;
      metrics.retire(slot);
      // A collection waiting for it stops waiting: its last snapshot is in the retired totals now.
      for (const c of collecting.values()) {
        c.waiting.delete(slot);
        if (c.waiting.size === 0) c.done();
      }
      if (stopping) {
        logger.info({ slot, pid: worker.process.pid, code, signal }, 'worker stopped');
        if (slots.every((x) => x.worker === undefined)) resolveRun();
        return;
      }
      if (!started) {
        // Its own error is on stderr already; the others are stopped and the start fails.
        stop();
        rejectRun(new WorkerStartError(slot, code, signal));
        return;
      }
      exits++;
      const delayMs = backoff.next(slot, Date.now() - s.startedAt);
      logger.error(
        { slot, pid: worker.process.pid, code, signal, restart_in_ms: delayMs },
        'worker died: replacing it',
      );
      s.replacing = setTimeout(() => fork(slot), delayMs);
    };

    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const s of slots) {
        clearTimeout(s.replacing);
        s.replacing = undefined;
        // A worker still starting has no server to drain yet: its default SIGTERM action ends it.
        if (s.worker) s.ready ? send(s.worker, { type: 'llmp:shutdown' }) : s.worker.process.kill('SIGTERM');
      }
      // Only a worker stuck past its own shutdown deadline reaches this.
      setTimeout(
        () => {
          for (const s of slots) s.worker?.process.kill('SIGKILL');
        },
        config.shutdownDelayMs + config.shutdownTimeoutMs + KILL_GRACE_MS,
      ).unref();
      if (slots.every((x) => x.worker === undefined)) resolveRun();
    };

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: ending every worker now');
        for (const s of slots) s.worker?.process.kill('SIGKILL');
        process.exit(1);
      }
      logger.info({ signal, workers: slots.filter((s) => s.worker).length }, 'shutting down: draining every worker');
      stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (config.tls) {
      // Each worker serves its own copy of the certificate: SIGHUP to the primary reaches them all.
      process.on('SIGHUP', () => {
        logger.info({ signal: 'SIGHUP' }, 'reloading the TLS certificate in every worker');
        for (const s of slots) s.worker?.process.kill('SIGHUP');
      });
    }

    cluster.on('exit', onExit);
    for (let slot = 0; slot < count; slot++) {
      slots.push({ worker: undefined, startedAt: 0, ready: false, replacing: undefined });
    }
    for (let slot = 0; slot < count; slot++) fork(slot);
    logger.info({ workers: count, pid: process.pid }, 'starting workers');
  });
}

/** A worker ended before every worker served: the start failed (its reason is on stderr). */
export class WorkerStartError extends Error {
  constructor(slot: number, code: number | null, signal: string | null) {
    super(
      `worker ${slot} exited during start (${signal ? `signal ${signal}` : `exit code ${code}`}); see its error above`,
    );
  }
}
