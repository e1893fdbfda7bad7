import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from '../redis/connection.js';
import { RedisSubscriber } from '../redis/subscriber.js';
import type { ChangeSignal } from './change-feed.js';

/** The channel committed changes are announced on (payload: the last seq); versioned like the limiter's keys. */
export const REDIS_CHANGES_CHANNEL = 'llmp:v1:changes';

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
  private subscriber: RedisSubscriber | undefined;
  private closed = false;
  private publishFailing = false;

  constructor(private readonly opts: RedisChangeSignalOptions) {}

  start(handlers: { wake(seq: number): void; up(listening: boolean): void }): void {
    if (this.closed) return;
    this.subscriber = new RedisSubscriber({
      connection: this.opts.publisher,
      name: this.name,
      channel: REDIS_CHANGES_CHANNEL,
      logger: this.opts.logger,
      subject: 'change feed',
      whileDown: 'polling until it is back',
      onMessage: (message) => {
        const seq = Number(message);
        if (Number.isSafeInteger(seq)) handlers.wake(seq);
      },
      // Up: the feed reads what was published while it was down.
      onListening: (listening) => handlers.up(listening),
    });
    this.subscriber.start();
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
    this.subscriber?.close();
  }
}
