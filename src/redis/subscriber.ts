import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from './connection.js';

/**
 * How long a lost subscriber waits before connecting again. What it missed is read again when it is
 * back, and a cut that repeats (a proxy dropping idle connections) then costs one reconnect a
 * second, not a storm.
 */
export const SUBSCRIBER_RETRY_MS = 1_000;

export interface RedisSubscriberOptions {
  /** The shared connection: the subscriber takes its server, credentials and TLS settings from it. */
  connection: RedisConnection;
  /** The connection's name in CLIENT LIST. */
  name: string;
  channel: string;
  logger: Logger;
  /** What a log line is about (`change feed`), and what goes missing while the subscriber is down. */
  subject: string;
  whileDown: string;
  onMessage(text: string): void;
  /** Once subscribed (each time): read what was missed. A failure counts as the connection's. */
  onSubscribed?(): Promise<void>;
  /** The subscription is up (true) or lost (false). */
  onListening?(listening: boolean): void;
}

/**
 * A Redis SUBSCRIBE on a connection of its own (subscribe mode sends nothing else), reconnected
 * here a second apart rather than by node-redis (which reconnects at once, without a pause, when a
 * ready connection drops). Says once per outage that it is down, and once that it is back.
 */
export class RedisSubscriber {
  private client: RedisClientType | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  private downLogged = false;
  listening = false;

  constructor(private readonly opts: RedisSubscriberOptions) {}

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { opts } = this;
    const client = createClient(opts.connection.subscriberOptions(opts.name)) as RedisClientType;
    this.client = client;
    let lost = false;
    const down = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      if (client.isOpen) client.destroy();
      if (this.stopped) return;
      if (this.listening) {
        this.listening = false;
        opts.onListening?.(false);
      }
      if (!this.downLogged) {
        this.downLogged = true;
        opts.logger.warn(
          { err: err?.message ?? 'connection ended', retryMs: SUBSCRIBER_RETRY_MS },
          `${opts.subject}: Redis subscriber connection lost; ${opts.whileDown}`,
        );
      }
      this.retry = setTimeout(() => void this.connect(), SUBSCRIBER_RETRY_MS);
      this.retry.unref();
    };
    client.on('error', (err: Error) => down(err));
    client.on('end', () => down());
    try {
      await client.connect();
      await client.subscribe(opts.channel, (text) => opts.onMessage(text));
      // Subscribed first, then read: what is published in between arrives by one or the other.
      await opts.onSubscribed?.();
    } catch (err) {
      down(err as Error);
      return;
    }
    if (this.stopped || lost) {
      if (client.isOpen) client.destroy();
      return;
    }
    if (this.downLogged) opts.logger.info(`${opts.subject}: Redis subscriber connection back`);
    this.downLogged = false;
    this.listening = true;
    opts.onListening?.(true);
  }

  close(): void {
    this.stopped = true;
    this.listening = false;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    if (client?.isOpen) client.destroy();
  }
}
