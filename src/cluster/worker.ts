import type { Registry } from 'prom-client';
import type { MetricsText } from '../server/metrics-routes.js';
import type { WorkerSlot } from '../shared/worker-dirs.js';
import { isOurs, type Snapshot, type ToPrimary, type ToWorker } from './messages.js';

/** A scrape that gets no answer from the primary in this time fails (only a hung primary reaches it). */
const SCRAPE_TIMEOUT_MS = 30_000;

function send(m: ToPrimary): void {
  process.send?.(m);
}

/**
 * A worker's end of the IPC (node:cluster). It says hello, learns its slot, answers the primary's
 * requests for its metrics, and asks the primary for the whole host's text when scraped.
 */
export class WorkerChannel {
  private nextId = 0;
  private readonly scrapes = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  private local: Registry | undefined;
  private onShutdown: (() => void) | undefined;

  private constructor(readonly slot: WorkerSlot) {}

  /** Waits for the primary to name this worker's slot; from then on answers its messages. */
  static async open(): Promise<WorkerChannel> {
    const slot = await new Promise<WorkerSlot>((resolve) => {
      const first = (m: unknown) => {
        if (!isOurs<ToWorker>(m) || m.type !== 'llmp:init') return;
        process.off('message', first);
        resolve({ slot: m.slot, count: m.count });
      };
      process.on('message', first);
      send({ type: 'llmp:hello' });
    });
    const channel = new WorkerChannel(slot);
    process.on('message', (m) => {
      if (isOurs<ToWorker>(m)) channel.receive(m);
    });
    return channel;
  }

  /** What /metrics serves in this worker: the host's text, merged by the primary. */
  hostMetrics(local: Registry): MetricsText {
    this.local = local;
    return { contentType: local.contentType, metrics: () => this.scrape() };
  }

  /** `llmp:shutdown` runs `stop` (as a first SIGTERM would). */
  onShutdownRequest(stop: () => void): void {
    this.onShutdown = stop;
  }

  ready(url: string, metricsUrl: string | undefined, adminUi: boolean): void {
    send({ type: 'llmp:ready', url, metricsUrl, adminUi });
  }

  private scrape(): Promise<string> {
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.scrapes.delete(id);
        reject(new Error('the primary process did not answer the metrics scrape'));
      }, SCRAPE_TIMEOUT_MS);
      this.scrapes.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      send({ type: 'llmp:scrape', id });
    });
  }

  private receive(m: ToWorker): void {
    switch (m.type) {
      case 'llmp:collect':
        // Before the server is up, or if collecting fails, null: the primary keeps what it had.
        void (this.local?.getMetricsAsJSON() ?? Promise.resolve(null)).then(
          (metrics) => send({ type: 'llmp:snapshot', id: m.id, metrics: metrics as unknown as Snapshot | null }),
          () => send({ type: 'llmp:snapshot', id: m.id, metrics: null }),
        );
        return;
      case 'llmp:scraped':
        this.scrapes.get(m.id)?.resolve(m.text);
        this.scrapes.delete(m.id);
        return;
      case 'llmp:scrape-failed':
        this.scrapes.get(m.id)?.reject(new Error(m.message));
        this.scrapes.delete(m.id);
        return;
      case 'llmp:shutdown':
        this.onShutdown?.();
        return;
      default:
        return;
    }
  }
}
