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
  private readonly client: RedisClientType;
  private readonly shas = new Map<string, string>();

  constructor(private readonly opts: RedisOptions) {
    this.breaker = new CircuitBreaker(opts.breakerFailures, opts.breakerOpenMs);
    this.client = createClient({
      url: opts.url,
      disableOfflineQueue: true,
      commandOptions: { timeout: opts.commandTimeoutMs },
      socket: {
        connectTimeout: opts.connectTimeoutMs,
        // Keep trying in the background, at most a second apart; calls meanwhile fail fast.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    }) as RedisClientType;
    this.client.on('error', (err: Error) => opts.onError?.(err));
  }

  /**
   * Connects; resolves when connected or rejects on the first failure within the connect timeout
   * (the client keeps reconnecting in the background either way).
   */
  async connect(): Promise<void> {
    const connecting = this.client.connect();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.client.off('ready', onReady);
        reject(new RedisUnavailable(`Redis is not reachable: ${err.message}`));
      };
      const onReady = () => {
        this.client.off('error', onError);
        resolve();
      };
      this.client.once('error', onError);
      this.client.once('ready', onReady);
    });
    await connecting;
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  /** One command through the breaker and the timeout. */
  async send<T>(args: string[]): Promise<T> {
    if (!this.breaker.allow()) throw new RedisUnavailable('Redis circuit breaker is open');
    try {
      const reply = (await this.client.sendCommand(args)) as T;
      this.breaker.success();
      return reply;
    } catch (err) {
      if (err instanceof ErrorReply) {
        this.breaker.success();
        throw err;
      }
      this.breaker.failure();
      throw new RedisUnavailable(`Redis call failed: ${(err as Error).message}`);
    }
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
    if (this.client.isOpen) await this.client.close();
    else this.client.destroy();
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
