import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ShippingConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { ownDir, type WorkerSlot } from '../shared/worker-dirs.js';
import type { UsageRecord } from '../store/usage-record.js';
import { DeadLetter } from './dead-letter.js';
import { FileSink } from './file-sink.js';
import { OtlpLogsSink } from './otlp-logs-sink.js';
import type { Sink } from './sink.js';
import { SinkChannel, type SinkStatus } from './sink-channel.js';
import { Spill } from './spill.js';
import { WebhookSink } from './webhook-sink.js';

export type { SinkStatus } from './sink-channel.js';

/** Where a sink keeps its spill and dead-letter file: per instance, on local disk. */
export const shippingDir = (dataDir: string, sink: string) => path.join(dataDir, 'shipping', sink);

/**
 * The log dispatcher: every finished exchange's usage record goes to each configured sink's own
 * queue (sink-channel.ts), so a slow or failing sink holds up neither the request path nor the
 * other sinks.
 */
export class Shipping {
  constructor(private readonly channels: SinkChannel[]) {}

  /** Hot path: one array push per sink. */
  enqueue(rec: UsageRecord): void {
    for (const c of this.channels) c.push(rec);
  }

  status(): SinkStatus[] {
    return this.channels.map((c) => c.status());
  }

  /** Delivers what it can within `timeoutMs`, spills the rest for the next start, closes the sinks. */
  async close(timeoutMs: number): Promise<void> {
    await Promise.all(this.channels.map((c) => c.close(timeoutMs)));
  }
}

/** The dispatcher over the sinks the configuration turns on, or undefined when none is (no cost at all). */
export function createShipping(
  config: ShippingConfig,
  dataDir: string,
  logger: Logger,
  worker?: WorkerSlot,
): Shipping | undefined {
  const sinks: Sink[] = [];
  if (config.webhook) sinks.push(new WebhookSink(config.webhook.url, config.webhook.secret, config.timeoutMs));
  if (config.otlp) {
    sinks.push(
      new OtlpLogsSink(config.otlp.url, config.otlp.headers, config.timeoutMs, (rejected) =>
        logger.warn({ sink: 'otlp', rejected }, 'log shipping: the collector rejected some log records'),
      ),
    );
  }
  if (config.file) {
    const file = config.file;
    sinks.push(startupStep('SHIPPING_FILE', () => new FileSink(file)));
  }
  if (sinks.length === 0) return undefined;
  const channels = sinks.map((sink) => {
    // Under WORKERS each worker spills to its slot's folder (a replacement resends what it left).
    const dir = ownDir(shippingDir(dataDir, sink.name), worker);
    startupStep('DATA_DIR', () => mkdirSync(dir, { recursive: true, mode: 0o700 }));
    const spill = config.spillMaxBytes > 0 ? new Spill({ dir, maxBytes: config.spillMaxBytes, logger }) : undefined;
    if (spill && spill.pending > 0) {
      logger.info(
        { sink: sink.name, events: spill.pending, spilled_bytes: spill.bytes },
        'log shipping: resending events spilled before the last stop',
      );
    }
    return new SinkChannel(sink, config, logger, new DeadLetter(path.join(dir, 'dead-letter.jsonl'), sink.name), spill);
  });
  logger.info({ sinks: sinks.map((s) => s.name) }, 'log shipping: on');
  return new Shipping(channels);
}

/** A file-system step at start-up whose failure is a configuration problem of `setting`. */
function startupStep<T>(setting: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(
      `Invalid configuration:\n  ${setting}: log shipping cannot use ${e.path ?? 'the path'} (${e.code ?? e.message})`,
    );
  }
}
