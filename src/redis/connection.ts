import { createHash } from 'node:crypto';
import {
  createClient,
  createCluster,
  ErrorReply,
  type RedisClientOptions,
  type RedisClientType,
  type RedisClusterType,
} from 'redis';
import { CircuitBreaker } from './breaker.js';
import {
  type ClientSettings,
  clusterOptions,
  type RedisTls,
  safeUrl,
  singleNodeOptions,
  subscriberOptions,
} from './client-options.js';
import { Deadlines } from './deadlines.js';
import { routingKey } from './routing-key.js';

export type { RedisTls } from './client-options.js';

export interface RedisOptions {
  /** `redis://…` or `rediss://…` (TLS); with `cluster`, any node of the cluster. */
  url: string;
  /** A Redis Cluster: commands go to the master of their keys' slot (REDIS_CLUSTER). */
  cluster?: boolean;
  /** Certificates for `rediss://` (REDIS_TLS_*_FILE). */
  tls?: RedisTls;
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
 * Error replies that say the server cannot serve now rather than answer the command: a cluster
 * without a master for the slot (CLUSTERDOWN), a slot moving (TRYAGAIN, or MOVED/ASK after
 * node-redis's redirections ran out), a server still loading its data or busy with a script.
 */
const OUTAGE_REPLIES = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|BUSY|MASTERDOWN|READONLY|NOREPLICAS)\b/;

/** How long a cluster whose nodes could not be reached waits before asking them again. */
const CLUSTER_RETRY_MS = 1_000;

type Cluster = RedisClusterType;

/**
 * One connection to Redis, or to each master of a Redis Cluster (node-redis pipelines concurrent
 * commands over it), with a timeout on every command, no offline queue (while disconnected a call
 * fails at once instead of waiting), and a circuit breaker in front (one for the whole cluster).
 * Errors the server returns (a script's error reply) are answers, not outages: they pass through
 * and do not count against the breaker, except those that say it cannot serve (OUTAGE_REPLIES).
 */
export class RedisConnection {
  readonly breaker: CircuitBreaker;
  /** Every call's reply deadline (commandTimeoutMs), one timer for all. */
  private readonly deadlines: Deadlines;
  private client: RedisClientType | Cluster;
  /** A cluster client that has its slot map (a single-node client says so itself: isReady). */
  private clusterUp = false;
  private clusterRetry: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly shas = new Map<string, string>();
  private readonly settings: ClientSettings;
  /** Why the last connection attempt failed (a TLS verification error, a refused port…), for outage messages. */
  private lastConnectError: string | undefined;

  constructor(private readonly opts: RedisOptions) {
    this.breaker = new CircuitBreaker(opts.breakerFailures, opts.breakerOpenMs);
    this.deadlines = new Deadlines(opts.commandTimeoutMs);
    this.settings = { url: opts.url, cluster: opts.cluster, tls: opts.tls, connectTimeoutMs: opts.connectTimeoutMs };
    this.client = this.newClient();
  }

  get cluster(): boolean {
    return this.opts.cluster === true;
  }

  /** `known`: masters a previous cluster client knew, asked for the slot map when the URL's node is not there. */
  private newClient(known: Array<{ host: string; port: number }> = []): RedisClientType | Cluster {
    if (this.cluster) {
      const options = clusterOptions(this.settings, this.opts.commandTimeoutMs, known);
      const cluster = createCluster(options) as unknown as Cluster;
      // Discovery errors ('error') and each node's connection errors ('node-error'); unheard, an
      // 'error' event would end the process.
      cluster.on('error', (err: Error) => this.connectionError(err));
      cluster.on('node-error', (err: Error) => this.connectionError(err));
      cluster.on('node-ready', () => {
        this.lastConnectError = undefined;
      });
      return cluster;
    }
    const client = createClient(singleNodeOptions(this.settings, this.opts.commandTimeoutMs)) as RedisClientType;
    client.on('error', (err: Error) => this.connectionError(err));
    client.on('ready', () => {
      this.lastConnectError = undefined;
    });
    return client;
  }

  private connectionError(err: Error): void {
    this.lastConnectError = err.message;
    this.opts.onError?.(err);
  }

  private isCluster(c: RedisClientType | Cluster): c is Cluster {
    return this.cluster;
  }

  /**
   * Connects; resolves when ready (connected and the handshake answered; on a cluster, the slot map
   * read and every master connected), rejects on the first failure or after the connect timeout.
   * Either way the connection keeps trying in the background.
   */
  async connect(): Promise<void> {
    const client = this.client;
    if (this.isCluster(client)) return this.connectCluster(client, true);
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

  /**
   * node-redis gives up on a cluster none of whose given nodes answered (its node connections
   * reconnect by themselves once it has the slot map): asked again here, a second apart.
   */
  private async connectCluster(cluster: Cluster, wait: boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const connecting = cluster.connect().then(
      async () => {
        if (this.client !== cluster || this.closed) return;
        this.clusterUp = true;
        // Connections to the masters open lazily (a master that is down does not hold up the
        // others); opened here so the first requests do not wait for them.
        await Promise.all(cluster.masters.map((m) => cluster.nodeClient(m)));
      },
      (err: Error) => {
        if (this.client !== cluster || this.closed) return;
        this.opts.onError?.(err);
        this.clusterRetry = setTimeout(() => void this.connectCluster(cluster, false), CLUSTER_RETRY_MS);
        this.clusterRetry.unref();
        throw new RedisUnavailable(`Redis Cluster is not reachable: ${err.message}`);
      },
    );
    if (!wait) return connecting.catch(() => undefined);
    try {
      await Promise.race([
        connecting,
        new Promise<void>((_, reject) => {
          timer = setTimeout(
            () => reject(new RedisUnavailable(`Redis Cluster did not answer within ${this.opts.connectTimeoutMs} ms`)),
            this.opts.connectTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      connecting.catch(() => undefined);
    }
  }

  get ready(): boolean {
    const client = this.client;
    return this.isCluster(client) ? this.clusterUp && client.isOpen : client.isReady;
  }

  /** One command, routed by its first key on a cluster (keyless ones: any node). */
  send<T>(args: string[]): Promise<T> {
    const client = this.client;
    if (!this.isCluster(client)) return this.guard(() => client.sendCommand(args) as Promise<T>);
    if (!this.clusterUp) return this.unavailable('no Redis Cluster slot map yet (no node gave one)');
    const key = routingKey(args);
    if (key === undefined) return this.sendToAnyMaster(client, args);
    return this.guard(() => client.sendCommand(key, false, args) as Promise<T>);
  }

  /**
   * A command that names no key (PUBLISH, TIME, PING), to the masters in turn from a random one
   * until one answers: node-redis would pick one node, and a node it lost (down, or back but its
   * connection not reopened) would fail every such call, a change-feed PUBLISH included, until the
   * breaker replaced the client.
   */
  private async sendToAnyMaster<T>(client: Cluster, args: string[]): Promise<T> {
    const masters = client.masters;
    const first = Math.floor(Math.random() * masters.length);
    let failure: unknown = new RedisUnavailable('no Redis Cluster master known');
    for (let i = 0; i < masters.length; i++) {
      const master = masters[(first + i) % masters.length] as (typeof masters)[number];
      try {
        return await this.guard(async () => (await client.nodeClient(master)).sendCommand(args) as Promise<T>);
      } catch (err) {
        if (!(err instanceof RedisUnavailable)) throw err;
        failure = err;
      }
    }
    throw failure;
  }

  private unavailable<T>(why: string): Promise<T> {
    if (!this.breaker.allow()) return Promise.reject(new RedisUnavailable('Redis circuit breaker is open'));
    this.breaker.failure();
    const cause = this.lastConnectError ? ` (connection: ${this.lastConnectError})` : '';
    return Promise.reject(new RedisUnavailable(`${why}${cause}`));
  }

  /** A call through the breaker, with a deadline on its reply. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) throw new RedisUnavailable('Redis circuit breaker is open');
    try {
      const reply = await this.deadlines.race(call());
      this.breaker.success();
      return reply;
    } catch (err) {
      if (err instanceof ErrorReply && !OUTAGE_REPLIES.test(err.message)) {
        this.breaker.success();
        throw err;
      }
      const opened = this.breaker.opened;
      this.breaker.failure();
      // Just opened: replace the connection, which may be stuck on a server that stopped answering
      // (a TCP connection can stay up while nothing comes back; replies owed to it would be lost).
      // A cluster client also reads the slot map afresh: node-redis re-reads it on MOVED only, not
      // when a master is gone and a replica took its place.
      if (this.breaker.opened !== opened) this.reset();
      // "The client is offline" says nothing of why: the connection's own error does.
      const why = this.lastConnectError ? ` (connection: ${this.lastConnectError})` : '';
      throw new RedisUnavailable(`Redis call failed: ${(err as Error).message}${why}`);
    }
  }

  private reset(): void {
    if (this.closed) return;
    const old = this.client;
    clearTimeout(this.clusterRetry);
    this.clusterUp = false;
    const known = this.isCluster(old) ? old.masters.map(({ host, port }) => ({ host, port })) : [];
    this.client = this.newClient(known);
    const client = this.client;
    if (this.isCluster(client)) void this.connectCluster(client, false);
    else client.connect().catch(() => undefined);
    old.destroy();
  }

  /**
   * Runs a script by its SHA; a server that does not know it (restarted, flushed, a new replica)
   * answers NOSCRIPT and gets the body once with EVAL, which also caches it there. On a cluster
   * both go to the master of the first key's slot: every key of one call must share that slot
   * (the limiter's keys share their project's hash tag; Redis refuses others with CROSSSLOT).
   */
  async script<T>(body: string, keys: string[], args: string[]): Promise<T> {
    // One array built once (no spreads); the fallback swaps its first two items.
    const command = ['EVALSHA', this.sha(body), String(keys.length)];
    for (const k of keys) command.push(k);
    for (const a of args) command.push(a);
    try {
      return await this.send<T>(command);
    } catch (err) {
      if (!(err instanceof ErrorReply) || !err.message.startsWith('NOSCRIPT')) throw err;
      const again = command.slice();
      again[0] = 'EVAL';
      again[1] = body;
      return this.send<T>(again);
    }
  }

  /**
   * Every key whose name matches `pattern` (SCAN, never KEYS: the server keeps serving meanwhile);
   * on a cluster, of every master.
   */
  async scan(pattern: string, type?: string): Promise<string[]> {
    const client = this.client;
    if (!this.isCluster(client)) return this.scanNode((args) => this.send(args), pattern, type);
    if (!this.clusterUp) return this.unavailable('no Redis Cluster slot map yet (no node gave one)');
    const out: string[] = [];
    for (const master of client.masters) {
      const send = <T>(args: string[]) =>
        this.guard(async () => (await client.nodeClient(master)).sendCommand(args) as Promise<T>);
      out.push(...(await this.scanNode(send, pattern, type)));
    }
    return out;
  }

  private async scanNode(
    send: <T>(args: string[]) => Promise<T>,
    pattern: string,
    type: string | undefined,
  ): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const args = ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'];
      if (type) args.push('TYPE', type);
      const [next, keys] = await send<[string, string[]]>(args);
      out.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  /**
   * Options for a connection of the caller's own that SUBSCRIBEs (it reconnects it itself): the
   * same server, credentials and TLS; on a cluster, a master from the current slot map, else the URL's node.
   */
  subscriberOptions(name: string): RedisClientOptions {
    const client = this.client;
    if (!this.isCluster(client) || !this.clusterUp || client.masters.length === 0) {
      return subscriberOptions(this.settings, name);
    }
    const node = client.masters[Math.floor(Math.random() * client.masters.length)];
    return subscriberOptions(this.settings, name, node);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.clusterRetry);
    const client = this.client;
    // Nothing is left to finish on a cluster (the limiter waits for its calls before this):
    // its node connections are dropped at once, some may still be reconnecting.
    if (this.isCluster(client)) {
      if (client.isOpen) client.destroy();
      return;
    }
    // A client still reconnecting has nothing to finish: dropped at once rather than waited for.
    if (client.isReady) await client.close();
    else if (client.isOpen) client.destroy();
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
    return this.cluster ? `${safeUrl(this.opts.url)} (cluster)` : safeUrl(this.opts.url);
  }
}
