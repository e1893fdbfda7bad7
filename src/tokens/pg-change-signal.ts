import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { CHANGES_CHANNEL } from '../store/changes-repo.js';
import type { ChangeSignal } from './change-feed.js';

/** How long a lost LISTEN connection waits before it is opened again (the poll covers the gap). */
const RETRY_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * PostgreSQL LISTEN on a connection of its own (the pool's connections come and go), named
 * `llm-proxy-changes-<random>` in pg_stat_activity. A change's NOTIFY is sent by its own
 * transaction at commit. When the connection drops, the feed keeps polling and this reconnects
 * every RETRY_MS; the feed reads what was missed as soon as it is back.
 */
export class PgChangeSignal implements ChangeSignal {
  /** The connection's application_name, to find it in pg_stat_activity. */
  readonly name = `llm-proxy-changes-${randomBytes(4).toString('hex')}`;
  readonly via = 'notify';
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Said once per outage, not at every retry. */
  private downLogged = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  start(handlers: { wake(seq: number): void; up(listening: boolean): void }): void {
    void this.connect(handlers);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(handlers: { wake(seq: number): void; up(listening: boolean): void }): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: withApplicationName(this.url, this.name),
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    this.client = client;
    let lost = false;
    const down = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => {});
      if (this.closed) return;
      handlers.up(false);
      if (!this.downLogged) {
        this.downLogged = true;
        this.logger.warn(
          { err: err?.message ?? 'connection ended', retryMs: RETRY_MS },
          'change feed: LISTEN connection lost; polling until it is back',
        );
      }
      this.retry = setTimeout(() => void this.connect(handlers), RETRY_MS);
      this.retry.unref();
    };
    client.on('error', down);
    client.on('end', () => down());
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL) return;
      const seq = Number(msg.payload);
      if (Number.isSafeInteger(seq)) handlers.wake(seq);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      down(err as Error);
      return;
    }
    if (this.closed || lost) {
      await client.end().catch(() => {});
      return;
    }
    if (this.downLogged) this.logger.info('change feed: LISTEN connection back');
    this.downLogged = false;
    handlers.up(true);
  }
}

/** The URL's own application_name would win over the client's option: the name is set in the URL. */
function withApplicationName(url: string, name: string): string {
  try {
    const u = new URL(url);
    u.searchParams.set('application_name', name);
    return u.toString();
  } catch {
    return url;
  }
}
