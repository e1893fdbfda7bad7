import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import type { UsageRecord } from '../store/usage-record.js';
import { backoffMs } from './backoff.js';
import { DeadLetter } from './dead-letter.js';
import { DeliveryError, type Sink } from './sink.js';
import { type ChannelOptions, SinkChannel } from './sink-channel.js';
import { Spill } from './spill.js';
import type { UsageEventV1 } from './usage-event.js';

const logger = createLogger({ level: 'silent' });

/** A sink the test steers: it fails while `failWith` is set, and records what it was given. */
class TestSink implements Sink {
  readonly name = 'webhook';
  delivered: UsageEventV1[] = [];
  attempts = 0;
  batches = 0;
  failWith: Error | undefined;
  closed = false;
  async deliver(events: UsageEventV1[]): Promise<void> {
    this.attempts++;
    if (this.failWith) throw this.failWith;
    this.delivered.push(...events);
    this.batches++;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

let n = 0;
const record = (): UsageRecord => ({
  id: `req-${++n}`,
  tokenId: 't',
  projectId: 'p',
  method: 'POST',
  path: '/v1/chat/completions',
  model: 'gpt-4o-mini',
  status: 200,
  stream: false,
  promptTokens: 3,
  completionTokens: 5,
  totalTokens: 8,
  cachedTokens: null,
  reasoningTokens: null,
  finishReason: 'stop',
  upstreamMs: 1.5,
  ttfbMs: 2,
  durationMs: 3.25,
  bytesIn: 10,
  bytesOut: 20,
  error: null,
  costNanoUsd: 4,
  usageStatus: 'reported',
  createdAt: 1_700_000_000_000,
  upstreamKeyId: null,
  retries: 0,
  servedFrom: null,
  serviceTier: null,
  billedUnits: null,
  upstreamRequestId: null,
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await sleep(5);
}

describe('SinkChannel', () => {
  let dir: string;
  let sink: TestSink;
  const channels: SinkChannel[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-channel-'));
    sink = new TestSink();
  });
  afterEach(async () => {
    await Promise.all(channels.splice(0).map((c) => c.close(0)));
    rmSync(dir, { recursive: true, force: true });
  });
  const deadFile = () => path.join(dir, 'dead-letter.jsonl');
  const channel = (opts: Partial<ChannelOptions> = {}, spill = true) => {
    const c = new SinkChannel(
      sink,
      {
        batchSize: 10,
        flushIntervalMs: 10,
        queueLimit: 1000,
        maxRetries: 50,
        retryBaseMs: 1,
        retryMaxMs: 5,
        ...opts,
      },
      logger,
      new DeadLetter(deadFile(), 'webhook'),
      spill ? new Spill({ dir: path.join(dir, 'spill'), maxBytes: 1_000_000, logger }) : undefined,
    );
    channels.push(c);
    return c;
  };

  it('retries a failing sink and delivers every event once it recovers', async () => {
    const c = channel();
    sink.failWith = new DeliveryError('HTTP 503', true);
    for (let i = 0; i < 25; i++) c.push(record());
    await until(() => sink.attempts >= 3 && c.status().spilledBytes > 0);
    expect(c.status()).toMatchObject({ queued: 25, shipped: 0, lastError: 'HTTP 503' });
    sink.failWith = undefined;
    await until(() => c.status().queued === 0);
    expect(new Set(sink.delivered.map((e) => e.id)).size).toBe(25);
    expect(c.status()).toMatchObject({ shipped: sink.delivered.length, lastError: undefined, spilledBytes: 0 });
    expect(c.status().retries).toBe(sink.attempts - sink.batches);
  });

  it('dead-letters a batch past the retry budget, and a refused one at once', async () => {
    const c = channel({ maxRetries: 2 });
    sink.failWith = new Error('boom');
    c.push(record());
    await until(() => c.status().deadLettered === 1);
    expect(sink.attempts).toBe(3);
    sink.failWith = new DeliveryError('HTTP 422', false);
    c.push(record());
    await until(() => c.status().deadLettered === 2);
    expect(sink.attempts).toBe(4);
    const lines = readFileSync(deadFile(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.attempts, l.reason])).toEqual([
      [3, 'failed'],
      [1, 'HTTP 422'],
    ]);
    expect(c.status().retries).toBe(2);
  });

  it('without a spill, holds queueLimit events in memory and counts the rest dropped', async () => {
    const c = channel({ queueLimit: 5, batchSize: 2 }, false);
    sink.failWith = new DeliveryError('timeout', true);
    for (let i = 0; i < 12; i++) c.push(record());
    await until(() => sink.attempts >= 2);
    // Memory took 5 before it was full; a batch of 2 of them is being retried, 3 wait.
    expect(c.status()).toMatchObject({ queued: 5, dropped: { queue_full: 7 } });
    await c.close(0);
    expect(c.status().dropped.shutdown).toBe(5);
    c.push(record());
    expect(c.status().dropped.shutdown).toBe(6);
    expect(sink.closed).toBe(true);
  });

  it('on close, delivers what memory holds to a healthy sink; a failing one has it spilled', async () => {
    const healthy = channel({ flushIntervalMs: 600_000, batchSize: 100 });
    for (let i = 0; i < 7; i++) healthy.push(record());
    await healthy.close(10_000);
    expect(sink.delivered).toHaveLength(7);

    sink = new TestSink();
    const failing = channel({ flushIntervalMs: 600_000, batchSize: 1 });
    sink.failWith = new DeliveryError('HTTP 500', true);
    for (let i = 0; i < 4; i++) failing.push(record());
    await until(() => sink.attempts >= 1);
    await failing.close(10_000);
    expect(failing.status()).toMatchObject({ queued: 4, dropped: { shutdown: 0 } });
    expect(existsSync(deadFile())).toBe(false);
  });
});

describe('backoffMs', () => {
  it('is full jitter under an exponential ceiling, capped', () => {
    expect(backoffMs(1, 100, 10_000, () => 0.999)).toBe(99);
    expect(backoffMs(4, 100, 10_000, () => 0.999)).toBe(799);
    expect(backoffMs(30, 100, 10_000, () => 0.999)).toBe(9990);
    expect(backoffMs(1_000, 100, 10_000, () => 0.5)).toBe(5000);
    expect(backoffMs(3, 100, 10_000, () => 0)).toBe(0);
  });
});
