import { createHash } from 'node:crypto';
import { createClient, ErrorReply, type RedisClientType } from 'redis';
import { CircuitBreaker } from './breaker.js';

export interface RedisOptions {
  /** `redis://…` or `rediss://…` (TLS). */
  url: string;
  /** Time to establish a connection (TCP + TLS + AUTH). */
  connectTimeoutMs: number;
  /** Time for one command's reply; a timed-out command counts as a failure for the breaker. */
  commandTimeoutMs: number;
  /** Consecutive failures that open the circuit breaker. */
  breakerFailures: number;
  /** How long the open breaker refuses calls before it lets one probe through. */
  breakerOpenMs: number;
  /** Told of connection errors (the client reconnects by itself). */
  onError?: (err: Error) => void;
}

/** Redis could not answer: down, timed out, or the breaker is open (the caller's failure mode decides). */
export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
}

/**
 * One connection to Redis (node-redis pipelines concurrent commands over it) with a timeout on
 * every command, no offline queue (while disconnected a call fails at once instead of waiting),
 * and a circuit breaker in front. Errors the server returns (a script's error reply) are answers,
 * not outages: they pass through and do not count against the breaker.
 */
export class RedisConnection {
  readonly breaker: CircuitBreaker;
  private client: RedisClientType;
  private readonly shas = new Map<string, string>();

  constructor(private readonly opts: RedisOptions) {
    this.breaker = new CircuitBreaker(opts.breakerFailures, opts.breakerOpenMs);
    this.client = this.newClient();
  }

  private newClient(): RedisClientType {
    const client = createClient({
      url: this.opts.url,
      disableOfflineQueue: true,
      // node-redis's own command timeout covers only the wait to be written: `send` times the reply.
      commandOptions: { timeout: this.opts.commandTimeoutMs },
      socket: {
        connectTimeout: this.opts.connectTimeoutMs,
        // Keep trying in the background, at most a second apart; calls meanwhile fail fast.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    }) as RedisClientType;
    client.on('error', (err: Error) => this.opts.onError?.(err));
    return client;
  }

  /**
   * Connects; resolves when ready (connected and the handshake answered), rejects on the first
   * failure or after the connect timeout (the client keeps reconnecting in the background either way).
   */
  async connect(): Promise<void> {
    const client = this.client;
    const connecting = client.connect();
    let timer: NodeJS.Timeout | undefined;
    let onError: ((err: Error) => void) | undefined;
    try {
      await Promise.race([
        connecting,
        new Promise<void>((_, reject) => {
          onError = (err: Error) => reject(new RedisUnavailable(`Redis is not reachable: ${err.message}`));
          client.once('error', onError);
          timer = setTimeout(
            () => reject(new RedisUnavailable(`Redis did not answer within ${this.opts.connectTimeoutMs} ms`)),
            this.opts.connectTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onError) client.off('error', onError);
    }
    connecting.catch(() => undefined);
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  /** One command through the breaker, with a deadline on its reply. */
  async send<T>(args: string[]): Promise<T> {
    if (!this.breaker.allow()) throw new RedisUnavailable('Redis circuit breaker is open');
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = (await Promise.race([
        this.client.sendCommand(args),
        new Promise((_, reject) => {
          // The deadline gives way to a reply already received: after a stalled event loop the
          // timer runs before the socket is read, and would fail a call Redis answered in time.
          timer = setTimeout(
            () => setImmediate(() => reject(new Error(`no reply within ${this.opts.commandTimeoutMs} ms`))),
            this.opts.commandTimeoutMs,
          );
        }),
      ])) as T;
      this.breaker.success();
      return reply;
    } catch (err) {
      if (err instanceof ErrorReply) {
        this.breaker.success();
        throw err;
      }
      const opened = this.breaker.opened;
      this.breaker.failure();
      // Just opened: replace the connection, which may be stuck on a server that stopped answering
      // (a TCP connection can stay up while nothing comes back; replies owed to it would be lost).
      if (this.breaker.opened !== opened) this.reset();
      throw new RedisUnavailable(`Redis call failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private reset(): void {
    const old = this.client;
    this.client = this.newClient();
    this.client.connect().catch(() => undefined);
    old.destroy();
  }

  /**
   * Runs a script by its SHA; a server that does not know it (restarted, flushed, a new replica)
   * answers NOSCRIPT and gets the body once with EVAL, which also caches it there.
   */
  async script<T>(body: string, keys: string[], args: string[]): Promise<T> {
    const sha = this.sha(body);
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.send<T>(['EVALSHA', sha, ...tail]);
    } catch (err) {
      if (!(err instanceof ErrorReply) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.send<T>(['EVAL', body, ...tail]);
    }
  }

  /** Every key whose name matches `pattern` (SCAN, never KEYS: the server keeps serving meanwhile). */
  async scan(pattern: string, type?: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const args = ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'];
      if (type) args.push('TYPE', type);
      const [next, keys] = await this.send<[string, string[]]>(args);
      out.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  async close(): Promise<void> {
    // A client still reconnecting has nothing to finish: dropped at once rather than waited for.
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }

  private sha(body: string): string {
    let sha = this.shas.get(body);
    if (!sha) {
      sha = createHash('sha1').update(body).digest('hex');
      this.shas.set(body, sha);
    }
    return sha;
  }

  /** The URL without its password, for logs. */
  get where(): string {
    try {
      const u = new URL(this.opts.url);
      u.password = '';
      u.username = '';
      return u.toString();
    } catch {
      return 'redis';
    }
  }
}
