import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from '../redis/connection.js';
import type { ChangeSignal } from './change-feed.js';

/** The channel committed changes are announced on (payload: the last seq); versioned like the limiter's keys. */
export const REDIS_CHANGES_CHANNEL = 'llmp:v1:changes';

/**
 * How long a lost subscriber waits before connecting again. The poll covers the gap, and a cut that
 * repeats (a proxy dropping idle connections) then costs one reconnect a second, not a storm.
 */
const RETRY_MS = 1_000;

export interface RedisChangeSignalOptions {
  /**
   * Publishes go through the shared connection (its command timeout and breaker); the subscriber
   * connection gets its server, credentials and TLS settings from it.
   */
  publisher: RedisConnection;
  logger: Logger;
}

/**
 * Redis pub/sub in place of PostgreSQL LISTEN, with SQLite or PostgreSQL alike. A subscriber in
 * subscribe mode can send nothing else, so it has a connection of its own, named
 * `llm-proxy-changes-<random>` (CLIENT LIST). Each commit that appended changes publishes its last
 * seq (`publish`, called after the commit, fire-and-forget): a Redis that is down delays no write,
 * and the feed's poll brings what a lost publish or a cut subscriber missed.
 *
 * On a Redis Cluster this is classic pub/sub, not sharded (SSUBSCRIBE): a PUBLISH on any node
 * reaches subscribers on every node over the cluster bus, it works from Redis 6.2 (sharded needs
 * 7.0), and one message per committed change is little for the bus to carry. The subscriber takes
 * a master from the current slot map each time it connects, so a lost node costs one reconnect.
 */
export class RedisChangeSignal implements ChangeSignal {
  readonly name = `llm-proxy-changes-${randomBytes(4).toString('hex')}`;
  readonly via = 'redis';
  private subscriber: RedisClientType | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Each said once per outage, not per retry or per change. */
  private subscriberDownLogged = false;
  private publishFailing = false;

  constructor(private readonly opts: RedisChangeSignalOptions) {}

  start(handlers: { wake(seq: number): void; up(listening: boolean): void }): void {
    void this.connect(handlers);
  }

  /**
   * A client per connection, reconnected here rather than by node-redis (which reconnects at once,
   * without a pause, when a ready connection drops), as the LISTEN connection is.
   */
  private async connect(handlers: { wake(seq: number): void; up(listening: boolean): void }): Promise<void> {
    if (this.closed) return;
    const client = createClient(this.opts.publisher.subscriberOptions(this.name)) as RedisClientType;
    this.subscriber = client;
    let lost = false;
    let listening = false;
    const down = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.subscriber === client) this.subscriber = undefined;
      if (client.isOpen) client.destroy();
      if (this.closed) return;
      if (listening) handlers.up(false);
      if (!this.subscriberDownLogged) {
        this.subscriberDownLogged = true;
        this.opts.logger.warn(
          { err: err?.message ?? 'connection ended', retryMs: RETRY_MS },
          'change feed: Redis subscriber connection lost; polling until it is back',
        );
      }
      this.retry = setTimeout(() => void this.connect(handlers), RETRY_MS);
      this.retry.unref();
    };
    client.on('error', (err: Error) => down(err));
    client.on('end', () => down());
    try {
      await client.connect();
      await client.subscribe(REDIS_CHANGES_CHANNEL, (message) => {
        const seq = Number(message);
        if (Number.isSafeInteger(seq)) handlers.wake(seq);
      });
    } catch (err) {
      down(err as Error);
      return;
    }
    if (this.closed || lost) {
      if (client.isOpen) client.destroy();
      return;
    }
    if (this.subscriberDownLogged) this.opts.logger.info('change feed: Redis subscriber connection back');
    this.subscriberDownLogged = false;
    listening = true;
    // The feed reads what was published while it was down.
    handlers.up(true);
  }

  /** Announces a committed change; never throws, never waits (errors logged once per failing period). */
  publish(seq: number): void {
    if (this.closed) return;
    this.opts.publisher.send(['PUBLISH', REDIS_CHANGES_CHANNEL, String(seq)]).then(
      () => {
        if (!this.publishFailing) return;
        this.publishFailing = false;
        this.opts.logger.info('change feed: publishing to Redis again');
      },
      (err: Error) => {
        if (this.publishFailing) return;
        this.publishFailing = true;
        this.opts.logger.warn(
          { err: err.message },
          'change feed: publishing a change to Redis failed; other instances find it by polling (CHANGES_POLL_MS)',
        );
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.subscriber;
    this.subscriber = undefined;
    if (client?.isOpen) client.destroy();
  }
}
