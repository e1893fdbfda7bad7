import type { RedisClientOptions, RedisClusterOptions } from 'redis';

/** PEM contents for `rediss://` (read from REDIS_TLS_*_FILE by the caller). */
export interface RedisTls {
  /** CAs trusted for the server's certificate, in place of Node's bundled public CAs. */
  ca?: Buffer;
  /** A client certificate and its key, for servers that require one (Redis's `tls-auth-clients yes`). */
  cert?: Buffer;
  key?: Buffer;
}

export interface ClientSettings {
  /** `redis://…` or `rediss://…`; with `cluster`, any one node of the cluster (the others are discovered). */
  url: string;
  cluster?: boolean;
  tls?: RedisTls;
  connectTimeoutMs: number;
}

/** Keep trying in the background, at most a second apart; calls meanwhile fail fast. */
const reconnect = (retries: number) => Math.min(50 * 2 ** retries, 1000);

/**
 * Socket options. TLS comes from the URL's scheme; certificates are always verified (Node's
 * `rejectUnauthorized` default), against REDIS_TLS_CA_FILE when given, else Node's public CAs.
 */
function socket(s: ClientSettings, reconnectStrategy: false | typeof reconnect) {
  const tls = new URL(s.url).protocol === 'rediss:';
  return {
    connectTimeout: s.connectTimeoutMs,
    reconnectStrategy,
    ...(tls ? { tls: true as const, ...s.tls } : {}),
  };
}

/** A client of one server (no cluster): the URL carries host, port, credentials and database. */
export function singleNodeOptions(s: ClientSettings, commandTimeoutMs: number): RedisClientOptions {
  return {
    url: s.url,
    disableOfflineQueue: true,
    // node-redis's own command timeout covers only the wait to be written: the connection times the reply.
    commandOptions: { timeout: commandTimeoutMs },
    socket: socket(s, reconnect),
  };
}

/**
 * A cluster client: the URL's node (or one of `known`) is asked for the slot map (CLUSTER SLOTS),
 * and every master it names gets a connection with the URL's credentials and TLS settings. No replicas are read from
 * (a limiter must read what it wrote), and a cluster has only database 0.
 */
export function clusterOptions(
  s: ClientSettings,
  commandTimeoutMs: number,
  known: Array<{ host: string; port: number }> = [],
): RedisClusterOptions {
  const { username, password } = credentials(s.url);
  return {
    // The URL's node, then the masters a previous client knew: a node that is down does not keep
    // the others from being found (node-redis asks each root node in turn).
    rootNodes: [{ url: s.url }, ...known.map(({ host, port }) => ({ socket: { host, port } }))],
    useReplicas: false,
    // Connected on first use: a master that is down would otherwise hold up connect() until it is back.
    minimizeConnections: true,
    commandOptions: { timeout: commandTimeoutMs },
    defaults: {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      disableOfflineQueue: true,
      socket: socket(s, reconnect),
    },
  };
}

/**
 * A connection of its own for SUBSCRIBE, reconnected by its owner (no automatic reconnect). On a
 * cluster it may be any node (`node`: one from the slot map): classic pub/sub reaches subscribers
 * on every node, whichever node a PUBLISH went to.
 */
export function subscriberOptions(s: ClientSettings, name: string, node?: { host: string; port: number }) {
  const options: RedisClientOptions = {
    url: s.url,
    name,
    disableOfflineQueue: true,
    socket: socket(s, false),
  };
  if (node) {
    // The URL gives the credentials; the host and port are those of the chosen node.
    const u = new URL(s.url);
    u.hostname = node.host.includes(':') ? `[${node.host}]` : node.host;
    u.port = String(node.port);
    u.pathname = '';
    options.url = u.toString();
  }
  return options;
}

function credentials(url: string): { username?: string; password?: string } {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** The URL without its credentials, for logs and /health. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.toString();
  } catch {
    return 'redis';
  }
}
