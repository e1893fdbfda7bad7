import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseHeaderList, type RawConfig } from './schema.js';
import { type TelemetryConfig, toTelemetryConfig } from './telemetry-config.js';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      url: string;
      /** Client side: undefined or 0 waits forever (migrations, tools). */
      queryTimeoutMs?: number | undefined;
      /** Server side (statement_timeout): undefined = queryTimeoutMs; 0 = none. */
      statementTimeoutMs?: number | undefined;
      /** Opening a connection, or waiting for a free one; undefined = 5 s, 0 = forever. */
      connectTimeoutMs?: number | undefined;
      /** Most connections the pool opens; undefined = 10. */
      poolSize?: number | undefined;
    };

export type Role = 'viewer' | 'operator' | 'admin';

/** OpenID Connect single sign-on (OIDC_*); undefined when OIDC_ISSUER is unset. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Undefined: a public client (PKCE only). */
  clientSecret: string | undefined;
  /** Undefined: derived from each request's origin. */
  redirectUrl: string | undefined;
  scopes: string;
  /** Lower-cased emails, and `@domain` entries for a whole domain. */
  allowedEmails: string[];
  defaultRole: Role;
  roleClaim: string;
  groups: Record<Role, string[]>;
}

/** Redis for the limits shared by every instance; `url` may hold a password: never log it. */
export interface RedisConfig {
  url: string;
  /** While Redis cannot answer: refuse limited requests (`closed`) or limit per instance (`local`). */
  failureMode: 'closed' | 'local';
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** The reconciliation job (limits/reconcile.ts): every this many ms (0: never), raising low counters or not. */
  reconcile: { intervalMs: number; correct: boolean };
  /** REDIS_URL is one node of a Redis Cluster. */
  cluster: boolean;
  /** PEM files for rediss:// (read when the connection is made): CAs, client certificate and key. */
  tls: { caFile?: string; certFile?: string; keyFile?: string };
}

/** The typed configuration every other module receives; nothing below config reads the environment. */
export interface Config {
  managementToken: string | undefined;
  listen: { host: string; port: number };
  dataDir: string;
  database: DatabaseConfig;
  autoMigrate: boolean;
  openaiApiUrl: string;
  encryption: { key: string | undefined; previous: string[]; required: boolean };
  log: {
    level: RawConfig['LOG_LEVEL'];
    file: string | undefined;
    rotation: { maxBytes: number; intervalMs: number; keep: number };
  };
  /** The per-request `proxy request` line: sampling of successes, and bodies (off by default). */
  accessLog: { sampleRate: number; bodies: boolean; bodyMaxBytes: number };
  manage: { rateLimitPerMinute: number; bodyLimitBytes: number };
  /**
   * Whose X-Forwarded-For / X-Forwarded-Proto the management API believes: false (the socket peer
   * and the socket's TLS only), true (any peer's), or the proxies' addresses / CIDR ranges.
   */
  trustProxy: boolean | string[];
  /** Sign-in to the management API with a session cookie (the admin UI): sessions, limits, SSO. */
  access: {
    sessionIdleMs: number;
    sessionMaxMs: number;
    signInAttemptsPerMinute: number;
    oidc: OidcConfig | undefined;
  };
  /**
   * HTTPS on LISTEN_ADDR (HTTP/2 by ALPN, HTTP/1.1 fallback): the PEM files, absolute, read at start
   * and again on SIGHUP or change (server/tls-reload.ts); undefined for plain HTTP.
   */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Without TLS: HTTP/2 with prior knowledge (h2c) beside HTTP/1.1 on the same port (server/h2c.ts). */
  http2Cleartext: boolean;
  shutdownTimeoutMs: number;
  /** SHUTDOWN_DELAY_MS: not ready but still serving, before the drain (load balancers stop sending first). */
  shutdownDelayMs: number;
  /** SHUTDOWN_IDLE_TIMEOUT_MS: how long a drain leaves an idle connection for its client to close. */
  shutdownIdleTimeoutMs: number;
  /** Processes serving the port (WORKERS, `auto` resolved to the cores): 1 = this process alone, no cluster. */
  workers: number;
  metrics: {
    listen: { host: string; port: number } | undefined;
    tokenLabels: boolean;
    maxLabelValues: number;
  };
  shipping: ShippingConfig;
  /** OpenTelemetry: spans and GenAI metrics over OTLP/HTTP (both off by default). */
  telemetry: TelemetryConfig;
  proxy: {
    bodyLimitBytes: number;
    /** Requests in flight on this instance past which further ones are shed with 503. */
    maxInFlight: number;
    /** Add stream_options.include_usage to streamed completions and hide the extra usage chunk. */
    streamIncludeUsage: boolean;
    /** Longest pause in a request body before the request is cancelled with 408; 0 = none. */
    requestBodyIdleTimeoutMs: number;
    /** Longest a request body may take to arrive in full, from the request's arrival; 0 = none. */
    requestBodyTimeoutMs: number;
    /** Memory for bodies being read whole before forwarding, all at once (0 = no bound) and per tenant. */
    bodyMemory: { limitBytes: number; sharePercent: number };
    upstream: {
      connectTimeoutMs: number;
      headersTimeoutMs: number;
      idleTimeoutMs: number;
      maxConnections: number;
      /** Longest wait for a free connection slot; 0 = refuse at once when all are busy. */
      queueTimeoutMs: number;
      /** Requests that may wait for a slot per origin; 0 = none wait. */
      queueLimit: number;
      /** Most of an origin's slots (held or waited for) one token, or one project, may take. */
      tenantSharePercent: number;
    };
    /** UPSTREAM_COOLDOWN_*: how long a failing key is skipped, and how long a request waits for one. */
    cooldown: { baseMs: number; maxMs: number; waitMs: number };
    /** UPSTREAM_LATENCY_DECAY_MS and UPSTREAM_HEADROOM_*: how requests are balanced across a project's keys. */
    balance: { decayMs: number; minRequests: number; minTokens: number };
    /** UPSTREAM_RETRY_*: retries and failover (proxy/failover.ts). */
    retry: {
      /** Attempts per request, the first included (1 = no retries). */
      maxAttempts: number;
      /** Backoff before a retry on the same key: full jitter under base × 2^(n-1), capped. */
      backoffMs: number;
      backoffMaxMs: number;
      /** No retry starts later than this after the request arrived (ms). */
      timeoutMs: number;
      /** Retries as a share of requests (the global retry budget), and the minimum per second. */
      budgetPercent: number;
      budgetMinPerSecond: number;
    };
    /** IDEMPOTENCY_*: the window of a key (0: off), a repeat's wait for the first, the largest response kept. */
    idempotency: { ttlMs: number; waitMs: number; maxResponseBytes: number };
    /** CACHE_*: the response cache (proxy/cache/); `redis` when CACHE_BACKEND is auto and REDIS_URL is set. */
    cache: { backend: 'memory' | 'redis'; memoryBytes: number; maxEntryBytes: number; maxTtlSeconds: number };
  };
  /** The instances registry (instances/heartbeat.ts): heartbeat interval, and silence after which one is gone. */
  instances: { heartbeatMs: number; goneAfterMs: number };
  /** `changesPollMs`: how often the change log is read (tokens/change-feed.ts). */
  tokenCache: { size: number; ttlMs: number; changesPollMs: number };
  /** The shared limiter (limits/redis-limiter.ts); undefined: limits in memory, per instance. */
  redis: RedisConfig | undefined;
  /** PostgreSQL without Redis: caps and lifetime budgets through the database (limits/store-counted-limiter.ts). */
  exactLimitsInDatabase: boolean;
  /** How long a limiter reservation (Redis, database-counted) is held before the sweeper settles it as unfinished. */
  reservationTimeoutMs: number;
  audit: {
    /** The JSON-lines copy of every event this process appends; undefined for none. */
    file: string | undefined;
    /** Record client addresses (false: never stored, in the database or the file). */
    clientIp: boolean;
    /** Summaries of refused proxy requests, per token, reason and minute. */
    refusedRequests: boolean;
  };
  usage: {
    flushIntervalMs: number;
    batchSize: number;
    queueLimit: number;
    /** The crash journal's fsync interval (DATA_DIR/journal); 0 leaves flushing to the OS. */
    journalFsyncMs: number;
  };
  /** Operator prices layered over the shipped table (pricing/openai.json). */
  pricingFile: string | undefined;
  maintenance: {
    /** How often the background jobs (token cleanup, usage retention) run; 0 turns them off. */
    intervalMs: number;
    /** Raw usage records older than this are deleted (rollups stay); 0 keeps them forever. */
    usageRetentionDays: number;
    /** Expired or revoked tokens are deleted this long after they ended; 0 keeps them forever. */
    tokenRetentionDays: number;
    /** Audit events older than this many whole days are deleted (with an anchor); 0 keeps them forever. */
    auditRetentionDays: number;
  };
  /** Batches and background responses followed until their usage is recorded (src/jobs/). */
  jobs: {
    /** The first poll's delay, doubling with each poll that finds the job still running… */
    pollMinMs: number;
    /** …up to this (never less than pollMinMs). */
    pollMaxMs: number;
    /** Jobs polled or recorded at once by this instance. */
    maxInFlight: number;
  };
}

/** Log shipping (src/shipping/): the sinks that are on, and how each one's queue behaves. */
export interface ShippingConfig {
  webhook: { url: string; secret: string } | undefined;
  /** `url` is the full <endpoint>/v1/logs. */
  otlp: { url: string; headers: Record<string, string> } | undefined;
  file: string | undefined;
  batchSize: number;
  flushIntervalMs: number;
  /** Events held in memory per sink. */
  queueLimit: number;
  /** Bytes of spill files per sink; 0 = no spill. */
  spillMaxBytes: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
}

/** OTLP/HTTP's rule: signal paths are appended to a base endpoint (unless it already names one). */
function otlpLogsUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/logs') ? base : `${base}/v1/logs`;
}

function parseListenAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  let host = addr.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host || '0.0.0.0', port: Number(addr.slice(i + 1)) };
}

function parseTrustProxy(v: string): boolean | string[] {
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

export function toConfig(raw: RawConfig): Config {
  const dataDir = path.resolve(raw.DATA_DIR);
  const url = raw.DATABASE_URL;
  let database: DatabaseConfig;
  if (url === undefined) database = { kind: 'sqlite', path: path.join(dataDir, 'llm-proxy.db') };
  else if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    database = { kind: 'sqlite', path: file === ':memory:' ? file : path.resolve(file) };
  } else
    database = {
      kind: 'postgres',
      url,
      queryTimeoutMs: raw.DATABASE_QUERY_TIMEOUT_MS,
      statementTimeoutMs: raw.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: raw.DATABASE_CONNECT_TIMEOUT_MS,
      poolSize: raw.DATABASE_POOL_SIZE,
    };
  return {
    managementToken: raw.MANAGEMENT_TOKEN,
    listen: parseListenAddr(raw.LISTEN_ADDR),
    dataDir,
    database,
    autoMigrate: raw.AUTO_MIGRATE,
    openaiApiUrl: raw.OPENAI_API_URL.replace(/\/+$/, '').replace(/\/v1$/, ''),
    encryption: {
      key: raw.ENCRYPTION_KEY,
      previous: (raw.ENCRYPTION_KEY_PREVIOUS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
      required: raw.REQUIRE_ENCRYPTION_KEY,
    },
    log: {
      level: raw.LOG_LEVEL,
      file: raw.LOG_FILE,
      rotation: { maxBytes: raw.LOG_ROTATE_BYTES, intervalMs: raw.LOG_ROTATE_INTERVAL_MS, keep: raw.LOG_ROTATE_KEEP },
    },
    accessLog: { sampleRate: raw.LOG_SAMPLE_RATE, bodies: raw.LOG_BODIES, bodyMaxBytes: raw.LOG_BODY_MAX_BYTES },
    manage: { rateLimitPerMinute: raw.MANAGE_RATE_LIMIT_PER_MINUTE, bodyLimitBytes: raw.MANAGE_BODY_LIMIT_BYTES },
    tls:
      raw.TLS_CERT_FILE === undefined || raw.TLS_KEY_FILE === undefined
        ? undefined
        : { certFile: path.resolve(raw.TLS_CERT_FILE), keyFile: path.resolve(raw.TLS_KEY_FILE) },
    http2Cleartext: raw.HTTP2_CLEARTEXT,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: raw.SHUTDOWN_DELAY_MS,
    shutdownIdleTimeoutMs: raw.SHUTDOWN_IDLE_TIMEOUT_MS,
    workers: raw.WORKERS === 'auto' ? availableParallelism() : Number(raw.WORKERS),
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    access: {
      sessionIdleMs: raw.ADMIN_SESSION_IDLE_MINUTES * 60_000,
      sessionMaxMs: raw.ADMIN_SESSION_MAX_HOURS * 3_600_000,
      signInAttemptsPerMinute: raw.ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE,
      oidc:
        raw.OIDC_ISSUER === undefined || raw.OIDC_CLIENT_ID === undefined
          ? undefined
          : {
              issuer: raw.OIDC_ISSUER,
              clientId: raw.OIDC_CLIENT_ID,
              clientSecret: raw.OIDC_CLIENT_SECRET,
              redirectUrl: raw.OIDC_REDIRECT_URL,
              scopes: raw.OIDC_SCOPES,
              allowedEmails: (raw.OIDC_ALLOWED_EMAILS ?? []).map((e) => e.toLowerCase()),
              defaultRole: raw.OIDC_DEFAULT_ROLE,
              roleClaim: raw.OIDC_ROLE_CLAIM,
              groups: {
                admin: raw.OIDC_ADMIN_GROUPS ?? [],
                operator: raw.OIDC_OPERATOR_GROUPS ?? [],
                viewer: raw.OIDC_VIEWER_GROUPS ?? [],
              },
            },
    },
    metrics: {
      listen: raw.METRICS_LISTEN_ADDR === undefined ? undefined : parseListenAddr(raw.METRICS_LISTEN_ADDR),
      tokenLabels: raw.METRICS_TOKEN_LABELS,
      maxLabelValues: raw.METRICS_MAX_LABEL_VALUES,
    },
    shipping: {
      webhook:
        raw.SHIPPING_WEBHOOK_URL === undefined
          ? undefined
          : { url: raw.SHIPPING_WEBHOOK_URL, secret: raw.SHIPPING_WEBHOOK_SECRET ?? '' },
      otlp:
        raw.SHIPPING_OTLP_LOGS_ENDPOINT === undefined
          ? undefined
          : {
              url: otlpLogsUrl(raw.SHIPPING_OTLP_LOGS_ENDPOINT),
              headers: parseHeaderList(raw.SHIPPING_OTLP_LOGS_HEADERS ?? ''),
            },
      file: raw.SHIPPING_FILE === undefined ? undefined : path.resolve(raw.SHIPPING_FILE),
      batchSize: raw.SHIPPING_BATCH_SIZE,
      flushIntervalMs: raw.SHIPPING_FLUSH_INTERVAL_MS,
      queueLimit: raw.SHIPPING_QUEUE_LIMIT,
      spillMaxBytes: raw.SHIPPING_SPILL_MAX_BYTES,
      maxRetries: raw.SHIPPING_MAX_RETRIES,
      retryBaseMs: raw.SHIPPING_RETRY_BASE_MS,
      retryMaxMs: raw.SHIPPING_RETRY_MAX_MS,
      timeoutMs: raw.SHIPPING_TIMEOUT_MS,
    },
    telemetry: toTelemetryConfig(raw, parseHeaderList(raw.OTEL_EXPORTER_OTLP_HEADERS ?? '')),
    proxy: {
      bodyLimitBytes: raw.PROXY_BODY_LIMIT_BYTES,
      maxInFlight: raw.PROXY_MAX_IN_FLIGHT,
      streamIncludeUsage: raw.STREAM_INCLUDE_USAGE,
      requestBodyIdleTimeoutMs: raw.PROXY_BODY_IDLE_TIMEOUT_MS,
      requestBodyTimeoutMs: raw.PROXY_BODY_TIMEOUT_MS,
      bodyMemory: { limitBytes: raw.PROXY_BODY_MEMORY_BYTES, sharePercent: raw.PROXY_BODY_MEMORY_SHARE_PERCENT },
      upstream: {
        connectTimeoutMs: raw.UPSTREAM_CONNECT_TIMEOUT_MS,
        headersTimeoutMs: raw.UPSTREAM_HEADERS_TIMEOUT_MS,
        idleTimeoutMs: raw.UPSTREAM_IDLE_TIMEOUT_MS,
        maxConnections: raw.UPSTREAM_MAX_CONNECTIONS,
        queueTimeoutMs: raw.UPSTREAM_QUEUE_TIMEOUT_MS,
        queueLimit: raw.UPSTREAM_QUEUE_LIMIT,
        tenantSharePercent: raw.UPSTREAM_SHARE_PERCENT,
      },
      cooldown: {
        baseMs: raw.UPSTREAM_COOLDOWN_MS,
        maxMs: raw.UPSTREAM_COOLDOWN_MAX_MS,
        waitMs: raw.UPSTREAM_COOLDOWN_WAIT_MS,
      },
      balance: {
        decayMs: raw.UPSTREAM_LATENCY_DECAY_MS,
        minRequests: raw.UPSTREAM_HEADROOM_REQUESTS,
        minTokens: raw.UPSTREAM_HEADROOM_TOKENS,
      },
      retry: {
        maxAttempts: raw.UPSTREAM_RETRY_MAX_ATTEMPTS,
        backoffMs: raw.UPSTREAM_RETRY_BACKOFF_MS,
        backoffMaxMs: raw.UPSTREAM_RETRY_BACKOFF_MAX_MS,
        timeoutMs: raw.UPSTREAM_RETRY_TIMEOUT_MS,
        budgetPercent: raw.UPSTREAM_RETRY_BUDGET_PERCENT,
        budgetMinPerSecond: raw.UPSTREAM_RETRY_BUDGET_MIN_PER_SECOND,
      },
      idempotency: {
        ttlMs: raw.IDEMPOTENCY_TTL_SECONDS * 1000,
        waitMs: raw.IDEMPOTENCY_WAIT_MS,
        maxResponseBytes: raw.IDEMPOTENCY_MAX_RESPONSE_BYTES,
      },
      cache: {
        backend: raw.CACHE_BACKEND === 'auto' ? (raw.REDIS_URL ? 'redis' : 'memory') : raw.CACHE_BACKEND,
        memoryBytes: raw.CACHE_MEMORY_BYTES,
        maxEntryBytes: raw.CACHE_MAX_ENTRY_BYTES,
        maxTtlSeconds: raw.CACHE_MAX_TTL_SECONDS,
      },
    },
    instances: { heartbeatMs: raw.INSTANCE_HEARTBEAT_MS, goneAfterMs: raw.INSTANCE_GONE_AFTER_MS },
    tokenCache: { size: raw.TOKEN_CACHE_SIZE, ttlMs: raw.TOKEN_CACHE_TTL_MS, changesPollMs: raw.CHANGES_POLL_MS },
    redis: raw.REDIS_URL
      ? {
          url: raw.REDIS_URL,
          failureMode: raw.REDIS_FAILURE_MODE,
          connectTimeoutMs: raw.REDIS_CONNECT_TIMEOUT_MS,
          commandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
          reconcile: { intervalMs: raw.REDIS_RECONCILE_INTERVAL_MS, correct: raw.REDIS_RECONCILE_CORRECT },
          cluster: raw.REDIS_CLUSTER,
          tls: {
            ...(raw.REDIS_TLS_CA_FILE ? { caFile: raw.REDIS_TLS_CA_FILE } : {}),
            ...(raw.REDIS_TLS_CERT_FILE ? { certFile: raw.REDIS_TLS_CERT_FILE } : {}),
            ...(raw.REDIS_TLS_KEY_FILE ? { keyFile: raw.REDIS_TLS_KEY_FILE } : {}),
          },
        }
      : undefined,
    exactLimitsInDatabase: raw.EXACT_LIMITS_IN_DATABASE,
    reservationTimeoutMs: raw.RESERVATION_TIMEOUT_MS,
    audit: {
      file:
        raw.AUDIT_LOG_FILE === undefined
          ? path.join(dataDir, 'audit.log')
          : raw.AUDIT_LOG_FILE === 'off'
            ? undefined
            : path.resolve(raw.AUDIT_LOG_FILE),
      clientIp: raw.AUDIT_CLIENT_IP,
      refusedRequests: raw.AUDIT_REFUSED_REQUESTS,
    },
    usage: {
      flushIntervalMs: raw.USAGE_FLUSH_INTERVAL_MS,
      batchSize: raw.USAGE_BATCH_SIZE,
      queueLimit: raw.USAGE_QUEUE_LIMIT,
      journalFsyncMs: raw.USAGE_JOURNAL_FSYNC_MS,
    },
    pricingFile: raw.PRICING_FILE,
    maintenance: {
      intervalMs: raw.MAINTENANCE_INTERVAL_MS,
      usageRetentionDays: raw.USAGE_RETENTION_DAYS,
      tokenRetentionDays: raw.TOKEN_RETENTION_DAYS,
      auditRetentionDays: raw.AUDIT_RETENTION_DAYS,
    },
    jobs: {
      pollMinMs: raw.JOBS_POLL_MIN_MS,
      pollMaxMs: Math.max(raw.JOBS_POLL_MIN_MS, raw.JOBS_POLL_MAX_MS),
      maxInFlight: raw.JOBS_MAX_IN_FLIGHT,
    },
  };
}
