import { isIP } from 'node:net';
import { z } from 'zod';
import { parseKey } from '../crypto/keyring.js';
import { keyValueListProblem, otlpUrlProblem, SAMPLERS } from './telemetry-config.js';
import { upstreamUrlProblem } from './upstream-url.js';

/** Settings given as text (env values are strings; a JSON CONFIG_FILE must quote them too). */
const text = z.string({ error: 'expected a string' });

const BOOL_WORDS = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] as const;

/** Environment booleans: accept the spellings operators actually type. */
const bool = z
  .union([z.boolean(), z.enum(BOOL_WORDS)], { error: `expected one of ${BOOL_WORDS.join(', ')}` })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on');

/**
 * Integer given as env text; 0 often means "off". Every message states the whole accepted range
 * (ranges.test.ts checks each setting): give both bounds here, never a `.min()`/`.max()` after it,
 * whose message would not say them.
 */
const int = (min = 0, max = Number.MAX_SAFE_INTEGER) => {
  const expected = `expected a whole number ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}`;
  return z.coerce.number({ error: expected }).int({ error: expected }).min(min, { error: expected }).max(max, {
    error: expected,
  });
};

/** Milliseconds for a timer: Node turns a delay above 2^31-1 into 1 ms, so that is the ceiling. */
const ms = (min = 0) => int(min, 2_147_483_647);

/** A fraction from 0 to 1 (0.1 = one in ten). */
const fraction = () => {
  const expected = 'expected a number from 0 to 1, e.g. 0.1';
  return z.coerce.number({ error: expected }).min(0, { error: expected }).max(1, { error: expected });
};

/** Days of retention: up to a century (further would overflow date arithmetic). */
const days = () => int(0, 36_500);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.join(', ')}` });

/** A refinement that reports `problem(value)` when it says something is wrong. */
const check =
  (problem: (v: string) => string | undefined) =>
  (v: string, ctx: z.RefinementCtx): void => {
    const message = problem(v);
    if (message) ctx.addIssue({ code: 'custom', message });
  };

/** A comma-separated list: trimmed, empty items dropped. */
const list = text.transform((v) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/** TRUST_PROXY: off, on (any peer), or the addresses / CIDR ranges of the proxies in front. */
function trustProxyProblem(v: string): string | undefined {
  if (BOOL_WORDS.includes(v as (typeof BOOL_WORDS)[number])) return undefined;
  for (const item of v.split(',').map((x) => x.trim())) {
    const [addr, bits, extra] = item.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max)))
      return `"${item}" is not an IP address or CIDR range: expected true, false, or a comma-separated list such as 10.0.0.0/8,127.0.0.1`;
  }
  return undefined;
}

/** An http(s) URL; plain http only on a loopback host (a provider on the same machine, in development). */
function oidcUrlProblem(v: string): string | undefined {
  if (!URL.canParse(v)) return 'expected an https:// URL';
  const u = new URL(v);
  if (u.protocol === 'https:') return undefined;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) || u.hostname.startsWith('127.');
  if (u.protocol === 'http:' && loopback) return undefined;
  return 'expected an https:// URL (http:// only on localhost / 127.0.0.1 / [::1])';
}

const ROLES = ['viewer', 'operator', 'admin'] as const;

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*)$/;

/** host:port, [ipv6]:port or :port, with a port from 0 to 65535 (0 = any free port). */
function listenAddrProblem(addr: string): string | undefined {
  const expected = 'expected host:port, [ipv6]:port or :port (port 0-65535), e.g. :8080 or 127.0.0.1:8080';
  const i = addr.lastIndexOf(':');
  if (i < 0) return expected;
  const host = addr.slice(0, i);
  const port = addr.slice(i + 1);
  if (!HOST.test(host) || (host.includes(':') && !host.startsWith('[')))
    return `host "${host}" is not valid: ${expected}`;
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return `port "${port}" is not valid: ${expected}`;
  return undefined;
}

function databaseUrlProblem(url: string): string | undefined {
  const expected = 'expected sqlite:<path> or postgres://user:password@host:port/database';
  if (url.startsWith('sqlite:')) return url.length > 'sqlite:'.length ? undefined : expected;
  if (!/^postgres(ql)?:\/\//.test(url)) return expected;
  // Whether the server answers is found out on connecting (and reported naming DATABASE_URL).
  return URL.canParse(url) ? undefined : `not a valid URL: ${expected}`;
}

/** REDIS_URL: redis:// or rediss:// (TLS); the message never repeats the value (it may hold a password). */
function redisUrlProblem(url: string): string | undefined {
  const expected = 'expected redis://[user:password@]host:port[/db] or rediss://… (TLS)';
  if (!/^rediss?:\/\//.test(url)) return expected;
  return URL.canParse(url) ? undefined : `not a valid URL: ${expected}`;
}

/** A sink's destination: an http(s) URL (it may hold a path and query; it is never logged). */
function sinkUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'expected an http(s) URL such as https://logs.example.com/ingest';
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:'
    ? undefined
    : `expected an http:// or https:// URL, not ${protocol}`;
}

/** `name=value,name2=value2` as OTEL_EXPORTER_OTLP_HEADERS spells it (values URL-encoded). */
export function parseHeaderList(value: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const parts = value.split(',');
  for (const [n, part] of parts.entries()) {
    if (part.trim() === '') continue;
    const i = part.indexOf('=');
    const name = part.slice(0, Math.max(i, 0)).trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new Error(`entry ${n + 1} has no header name before "="`);
    headers[name] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return headers;
}

const headerListProblem = (v: string) => {
  try {
    parseHeaderList(v);
    return undefined;
  } catch (err) {
    // Never echo a value: it is usually a credential.
    const reason = err instanceof URIError ? 'a value is not valid URL encoding' : (err as Error).message;
    return `${reason}: expected name=value,name2=value2`;
  }
};

const keyProblem = (v: string) => {
  try {
    parseKey(v, 'the key');
    return undefined;
  } catch (err) {
    return `${(err as Error).message.replace(/^the key /, '')}; generate one with: openssl rand -base64 32`;
  }
};

/** WORKERS: `auto` or a whole number from 1 to 256. */
const workersProblem = (v: string): string | undefined =>
  v === 'auto' || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 256)
    ? undefined
    : 'expected auto (one per core) or a whole number from 1 to 256';

/**
 * Every setting llm-proxy reads, with its default. The README's configuration table mirrors this
 * schema one to one; keep them together.
 */
export const configSchema = z.object({
  MANAGEMENT_TOKEN: text.min(16, 'must be at least 16 characters').optional(),
  LISTEN_ADDR: text.superRefine(check(listenAddrProblem)).default(':8080'),
  DATA_DIR: text.default('./data'),
  DATABASE_URL: text.superRefine(check(databaseUrlProblem)).optional(),
  AUTO_MIGRATE: bool.default(true),
  /** PostgreSQL: a query (or taking a connection) that gets no answer in this time fails; 0 = wait forever. */
  DATABASE_QUERY_TIMEOUT_MS: ms().default(10_000),
  /** PostgreSQL: the server cancels a statement running longer (statement_timeout); unset = the query timeout, 0 = never. */
  DATABASE_STATEMENT_TIMEOUT_MS: ms().optional(),
  /** PostgreSQL: opening a connection, or waiting for a free one in the pool, fails after this; 0 = wait forever. */
  DATABASE_CONNECT_TIMEOUT_MS: ms().default(5_000),
  /** PostgreSQL: the most connections one instance opens. */
  DATABASE_POOL_SIZE: int(1, 1000).default(10),
  /**
   * PostgreSQL without REDIS_URL: request caps (max_requests) and lifetime budgets are counted in the
   * database, exact across instances, at a round trip per admission of a token or project that has
   * one. false: each instance counts them in memory (exact only when it is the only one).
   */
  EXACT_LIMITS_IN_DATABASE: bool.default(true),
  OPENAI_API_URL: text.superRefine(check(upstreamUrlProblem)).default('https://api.openai.com'),
  ENCRYPTION_KEY: text.superRefine(check(keyProblem)).optional(),
  ENCRYPTION_KEY_PREVIOUS: text
    .superRefine(
      check((v) => {
        const keys = v.split(',').map((k) => k.trim());
        const bad = keys.findIndex((k) => k !== '' && keyProblem(k) !== undefined);
        return bad < 0 ? undefined : `key ${bad + 1} of the list: ${keyProblem(keys[bad] as string)}`;
      }),
    )
    .optional(),
  REQUIRE_ENCRYPTION_KEY: bool.default(false),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FILE: text.optional(),
  /** LOG_FILE is rotated to LOG_FILE.1 at this size; 0 = never by size. */
  LOG_ROTATE_BYTES: int().default(104_857_600),
  /** …and once it is this old; 0 = never by time. */
  LOG_ROTATE_INTERVAL_MS: ms().default(0),
  /** Rotated files kept (LOG_FILE.1 … LOG_FILE.N); each rotation renames them all, hence the ceiling. */
  LOG_ROTATE_KEEP: int(1, 1000).default(10),
  /** Fraction of successful proxied requests that get a `proxy request` line; errors always do. */
  LOG_SAMPLE_RATE: fraction().default(1),
  /** Log request and response bodies (cut to LOG_BODY_MAX_BYTES, secrets masked) in the request line. */
  LOG_BODIES: bool.default(false),
  LOG_BODY_MAX_BYTES: int(1, 1_048_576).default(4096),
  MANAGE_RATE_LIMIT_PER_MINUTE: int().default(600),
  MANAGE_BODY_LIMIT_BYTES: int(1024).default(1_048_576),
  SHUTDOWN_TIMEOUT_MS: ms().default(30_000),
  /** After SIGTERM, /ready answers 503 this long while everything is still served; then the port closes. */
  SHUTDOWN_DELAY_MS: ms().default(0),
  /** While draining, an idle client connection is left this long for its client to close; 0 = closed at once. */
  SHUTDOWN_IDLE_TIMEOUT_MS: ms().default(0),
  /**
   * Processes serving the one port (node:cluster); `auto` = one per core. Above 1 it needs REDIS_URL,
   * so limits hold across them (docs/scaling.md).
   */
  WORKERS: text.superRefine(check(workersProblem)).default('1'),
  /** Believe X-Forwarded-For / -Proto from these peers (management API and sign-in only; the proxy path never reads them). */
  TRUST_PROXY: text.superRefine(check(trustProxyProblem)).default('false'),
  /** PEM certificate (chain) served on LISTEN_ADDR: HTTPS with HTTP/2 (ALPN) and HTTP/1.1; with TLS_KEY_FILE. */
  TLS_CERT_FILE: text.optional(),
  /** PEM private key of TLS_CERT_FILE (unencrypted). */
  TLS_KEY_FILE: text.optional(),
  /** Without TLS: serve cleartext HTTP/2 (h2c, prior knowledge) beside HTTP/1.1 on LISTEN_ADDR, for a load balancer. */
  HTTP2_CLEARTEXT: bool.default(false),
  // Redis: limits shared by every instance (docs/scaling.md)
  /** Unset: each instance limits in memory on its own. */
  REDIS_URL: text.superRefine(check(redisUrlProblem)).optional(),
  /** While Redis cannot answer: `closed` refuses limited requests with 503, `local` limits per instance. */
  REDIS_FAILURE_MODE: oneOf(['closed', 'local']).default('closed'),
  REDIS_CONNECT_TIMEOUT_MS: ms(1).default(2_000),
  /**
   * A limiter call without a reply in this time fails (and counts towards the circuit breaker).
   * Redis answers in well under a millisecond, but a stalled event loop on a busy host, TLS and a
   * cluster's redirection (the slot map read again, then the call) come on top: 250 ms failed calls
   * Redis had answered on a loaded host. A Redis that is gone costs this wait only until the
   * breaker opens (3 calls in a row), then calls fail at once.
   */
  REDIS_COMMAND_TIMEOUT_MS: ms(1).default(1_000),
  /** REDIS_URL names one node of a Redis Cluster; the client reads the slot map from it. */
  REDIS_CLUSTER: bool.default(false),
  /** PEM file of the CAs trusted for a rediss:// server, in place of Node's public CAs. */
  REDIS_TLS_CA_FILE: text.optional(),
  /** PEM client certificate for a rediss:// server that requires one; with REDIS_TLS_KEY_FILE. */
  REDIS_TLS_CERT_FILE: text.optional(),
  REDIS_TLS_KEY_FILE: text.optional(),
  /**
   * How long a request's limiter reservation (its in-flight slot, its reserved budget) is held before
   * it is settled as unfinished, as its instance's death would leave it. Longer than the longest
   * request (streams included). Redis and the database-counted limits.
   */
  RESERVATION_TIMEOUT_MS: ms(1_000).default(900_000),
  /** How often one instance compares Redis's limit counters with the database (drift metrics); 0 = never. */
  REDIS_RECONCILE_INTERVAL_MS: ms().default(60_000),
  /** The reconciliation raises Redis counters found below the database's totals (it never lowers one). */
  REDIS_RECONCILE_CORRECT: bool.default(true),
  // Sign-in and access (admin UI sessions, users, roles, single sign-on)
  /** A session unused for this long ends. */
  ADMIN_SESSION_IDLE_MINUTES: int(1, 10_080).default(30),
  /** A session ends this long after sign-in, however busy. */
  ADMIN_SESSION_MAX_HOURS: int(1, 8_760).default(12),
  /** Failed sign-ins per client address, and per username, in a minute before further attempts get 429. */
  ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: int(1).default(10),
  OIDC_ISSUER: text.superRefine(check(oidcUrlProblem)).optional(),
  OIDC_CLIENT_ID: text.optional(),
  /** Absent: a public client (PKCE only, no client authentication). */
  OIDC_CLIENT_SECRET: text.optional(),
  /** Default: <the request's origin>/manage/oidc/callback. */
  OIDC_REDIRECT_URL: text.superRefine(check(oidcUrlProblem)).optional(),
  OIDC_SCOPES: text.default('openid email profile'),
  /** Emails (or @domain) allowed in, with OIDC_DEFAULT_ROLE unless a group gives another. */
  OIDC_ALLOWED_EMAILS: list.optional(),
  OIDC_DEFAULT_ROLE: oneOf(ROLES).default('viewer'),
  /** The ID token claim that lists the user's groups. */
  OIDC_ROLE_CLAIM: text.default('groups'),
  OIDC_ADMIN_GROUPS: list.optional(),
  OIDC_OPERATOR_GROUPS: list.optional(),
  OIDC_VIEWER_GROUPS: list.optional(),
  // Metrics
  /** A second listener serving only GET /metrics, without the management token (e.g. cluster-internal). */
  METRICS_LISTEN_ADDR: text.superRefine(check(listenAddrProblem)).optional(),
  /** Label proxy metrics with token and project ids too (cost, requests), within METRICS_MAX_LABEL_VALUES. */
  METRICS_TOKEN_LABELS: bool.default(false),
  /** Distinct values a metric label (model, token, project) takes before further ones count as `other`. */
  METRICS_MAX_LABEL_VALUES: int(1).default(200),
  // Audit trail
  /** The JSON-lines copy of the audit events; `off` for none. Default: DATA_DIR/audit.log. */
  AUDIT_LOG_FILE: text.optional(),
  /** Record client addresses in audit events. */
  AUDIT_CLIENT_IP: bool.default(true),
  /** Summarise refused proxy requests in the audit trail (per token, reason and minute). */
  AUDIT_REFUSED_REQUESTS: bool.default(true),
  /** Audit events older than this are deleted by the maintenance job (an anchor keeps the chain verifiable). */
  AUDIT_RETENTION_DAYS: days().default(365),
  // Log shipping (src/shipping/): each sink is on when its destination is set.
  /** POST usage events in JSON batches here, signed with SHIPPING_WEBHOOK_SECRET. */
  SHIPPING_WEBHOOK_URL: text.superRefine(check(sinkUrlProblem)).optional(),
  /** HMAC-SHA256 key of the webhook signature (required with SHIPPING_WEBHOOK_URL). */
  SHIPPING_WEBHOOK_SECRET: text.min(16, 'must be at least 16 characters').optional(),
  /** OTLP/HTTP base URL: events go to <endpoint>/v1/logs as OTLP JSON log records. */
  SHIPPING_OTLP_LOGS_ENDPOINT: text.superRefine(check(sinkUrlProblem)).optional(),
  /** Headers of every OTLP request (`name=value,name2=value2`, values URL-encoded), e.g. an API key. */
  SHIPPING_OTLP_LOGS_HEADERS: text.superRefine(check(headerListProblem)).optional(),
  /** Append usage events to this file as JSON lines (0600). */
  SHIPPING_FILE: text.optional(),
  SHIPPING_BATCH_SIZE: int(1, 10_000).default(500),
  SHIPPING_FLUSH_INTERVAL_MS: ms(10).default(1_000),
  /** Events held in memory per sink; past it new events are dropped (and counted). */
  SHIPPING_QUEUE_LIMIT: int(1).default(10_000),
  /** Bytes of events spilled to DATA_DIR/shipping/<sink>/ per sink while it is slow or down; 0 = no spill. */
  SHIPPING_SPILL_MAX_BYTES: int().default(268_435_456),
  /** Failed attempts of a batch retried before it goes to the sink's dead-letter file. */
  SHIPPING_MAX_RETRIES: int(0, 100).default(10),
  SHIPPING_RETRY_BASE_MS: ms(1).default(500),
  SHIPPING_RETRY_MAX_MS: ms(1).default(60_000),
  /** A sink request (connect to end of reply) that takes longer fails and is retried. */
  SHIPPING_TIMEOUT_MS: ms(1).default(10_000),
  // OpenTelemetry (the standard OTEL_* names; off unless an OTLP endpoint or exporter is named)
  /** Turns all of OpenTelemetry off, whatever else is set. */
  OTEL_SDK_DISABLED: bool.default(false),
  /** service.name of spans and metrics (default: service.name of OTEL_RESOURCE_ATTRIBUTES, else llm-proxy). */
  OTEL_SERVICE_NAME: text.optional(),
  /** More resource attributes: key=value pairs, comma-separated, values percent-encoded. */
  OTEL_RESOURCE_ATTRIBUTES: text.superRefine(check(keyValueListProblem)).optional(),
  /** Base URL of an OTLP/HTTP receiver; /v1/traces and /v1/metrics are appended. */
  OTEL_EXPORTER_OTLP_ENDPOINT: text.superRefine(check(otlpUrlProblem)).optional(),
  /** Full URL for spans (used as is), over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: text.superRefine(check(otlpUrlProblem)).optional(),
  /** Full URL for metrics (used as is), over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: text.superRefine(check(otlpUrlProblem)).optional(),
  /** Headers sent with every export (e.g. a collector's API key): key=value pairs, comma-separated. */
  OTEL_EXPORTER_OTLP_HEADERS: text.superRefine(check(headerListProblem)).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(['http/protobuf', 'http/json'], {
      error: 'expected http/protobuf or http/json (grpc is not supported: use an OTLP/HTTP receiver, port 4318)',
    })
    .default('http/protobuf'),
  /** Longest wait for one export request. */
  OTEL_EXPORTER_OTLP_TIMEOUT: ms(1).default(10_000),
  /** `otlp` exports spans (to http://localhost:4318 when no endpoint is set); `none` turns tracing off. */
  OTEL_TRACES_EXPORTER: oneOf(['otlp', 'none']).optional(),
  /** `otlp` exports the GenAI metrics; `none` turns them off (the Prometheus /metrics is separate). */
  OTEL_METRICS_EXPORTER: oneOf(['otlp', 'none']).optional(),
  OTEL_TRACES_SAMPLER: oneOf(SAMPLERS).default('parentbased_always_on'),
  /** The ratio of the *traceidratio samplers, from 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number({ error: 'expected a number from 0 to 1' })
    .min(0, { error: 'expected a number from 0 to 1' })
    .max(1, { error: 'expected a number from 0 to 1' })
    .optional(),
  /** Spans are sent in batches at least this often. */
  OTEL_BSP_SCHEDULE_DELAY: ms(1).default(5_000),
  /** Metrics are sent this often. */
  OTEL_METRIC_EXPORT_INTERVAL: ms(1).default(60_000),
  // The proxy path
  PROXY_BODY_LIMIT_BYTES: int(1024).default(536_870_912),
  /**
   * Requests in flight on this instance (being read, waiting, streaming) past which new ones are
   * shed with 503 at once, before any token lookup. Measured at about 95 KiB of RSS per open stream
   * (garbage included), so the default bounds a burst to about 400 MiB above idle: within the
   * 768 MiB the Helm chart allows, four times the 1,000 streams the benchmarks hold.
   */
  PROXY_MAX_IN_FLIGHT: int(1).default(4096),
  UPSTREAM_CONNECT_TIMEOUT_MS: ms().default(10_000),
  UPSTREAM_HEADERS_TIMEOUT_MS: ms().default(600_000),
  UPSTREAM_IDLE_TIMEOUT_MS: ms().default(300_000),
  /**
   * Connections (one request each) per upstream origin. A stream holds one to its end, so the
   * default lets one token's 1,000 concurrent streams through unqueued within its 50% share, and
   * equals PROXY_MAX_IN_FLIGHT: on one origin, load is shed before it queues. undici opens
   * connections on demand, so an unused allowance costs nothing.
   */
  UPSTREAM_MAX_CONNECTIONS: int(1).default(4096),
  UPSTREAM_QUEUE_TIMEOUT_MS: ms().default(5_000),
  UPSTREAM_QUEUE_LIMIT: int().default(1024),
  UPSTREAM_SHARE_PERCENT: int(1, 100).default(50),
  // Upstream key cooldowns (proxy/key-health.ts; documented in settings-docs.ts)
  UPSTREAM_COOLDOWN_MS: ms(1).default(1_000),
  UPSTREAM_COOLDOWN_MAX_MS: ms(1).default(60_000),
  UPSTREAM_COOLDOWN_WAIT_MS: ms().default(2_000),
  // Balancing across a project's keys (proxy/key-choice.ts, key-load.ts; documented in settings-docs.ts)
  UPSTREAM_LATENCY_DECAY_MS: ms(1).default(10_000),
  UPSTREAM_HEADROOM_REQUESTS: int().default(1),
  UPSTREAM_HEADROOM_TOKENS: int().default(1),
  // Retries and failover (proxy/failover.ts; documented in settings-docs.ts)
  UPSTREAM_RETRY_MAX_ATTEMPTS: int(1, 10).default(3),
  UPSTREAM_RETRY_BACKOFF_MS: ms(1).default(100),
  UPSTREAM_RETRY_BACKOFF_MAX_MS: ms(1).default(2_000),
  UPSTREAM_RETRY_TIMEOUT_MS: ms().default(10_000),
  UPSTREAM_RETRY_BUDGET_PERCENT: int(0, 100).default(10),
  UPSTREAM_RETRY_BUDGET_MIN_PER_SECOND: int(0, 1_000_000).default(10),
  // Idempotency-Key (idempotency/; documented in settings-docs.ts)
  IDEMPOTENCY_TTL_SECONDS: int(0, 2_592_000).default(86_400),
  IDEMPOTENCY_WAIT_MS: ms().default(10_000),
  IDEMPOTENCY_MAX_RESPONSE_BYTES: int(0, 67_108_864).default(1_048_576),
  PROXY_BODY_IDLE_TIMEOUT_MS: ms().default(30_000),
  PROXY_BODY_TIMEOUT_MS: ms().default(300_000),
  PROXY_BODY_MEMORY_BYTES: int().default(268_435_456),
  PROXY_BODY_MEMORY_SHARE_PERCENT: int(1, 100).default(25),
  STREAM_INCLUDE_USAGE: bool.default(true),
  // The response cache (proxy/cache/; documented in settings-docs.ts)
  CACHE_BACKEND: oneOf(['auto', 'memory', 'redis']).default('auto'),
  CACHE_MEMORY_BYTES: int(0).default(67_108_864),
  CACHE_MAX_ENTRY_BYTES: int(1, 268_435_456).default(1_048_576),
  CACHE_MAX_TTL_SECONDS: int(1, 31_536_000).default(86_400),
  /** Entries of the token cache: its index is allocated at start (about 45 bytes an entry), hence a ceiling. */
  TOKEN_CACHE_SIZE: int(1, 10_000_000).default(10_000),
  TOKEN_CACHE_TTL_MS: ms(1).default(30_000),
  /** The change log's periodic read: the bound on a change reaching this instance when a NOTIFY is lost. */
  CHANGES_POLL_MS: ms(20).default(250),
  /** How often each server writes its row in the instances registry (off the request path). */
  INSTANCE_HEARTBEAT_MS: ms(50).default(5_000),
  /** An instance without a heartbeat for this long shows as gone (at least twice INSTANCE_HEARTBEAT_MS). */
  INSTANCE_GONE_AFTER_MS: ms(100).default(30_000),
  USAGE_FLUSH_INTERVAL_MS: ms(10).default(1_000),
  USAGE_BATCH_SIZE: int(1).default(500),
  USAGE_QUEUE_LIMIT: int(1).default(100_000),
  /** How often the usage journal is fsynced (off the request path); 0 leaves it to the OS. */
  USAGE_JOURNAL_FSYNC_MS: ms().default(1_000),
  // Usage, cost and limits
  PRICING_FILE: text.optional(),
  USAGE_RETENTION_DAYS: days().default(90),
  MAINTENANCE_INTERVAL_MS: ms().default(600_000),
  TOKEN_RETENTION_DAYS: days().default(30),
  /** Batches and background responses followed until their usage is recorded (src/jobs/). */
  JOBS_POLL_MIN_MS: ms(10).default(60_000),
  JOBS_POLL_MAX_MS: ms(10).default(3_600_000),
  JOBS_MAX_IN_FLIGHT: int(1).default(4),
});

export type RawConfig = z.infer<typeof configSchema>;
