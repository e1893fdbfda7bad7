import { z } from 'zod';

/** Environment booleans: accept the spellings operators actually type. */
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on');

/** Non-negative integer given as env text; 0 often means "off". */
const int = (min = 0) => z.coerce.number().int().min(min);

const listenAddr = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*)?:\d{1,5}$/, 'expected host:port, [ipv6]:port or :port');

/**
 * Every setting llm-proxy reads, with its default. The README's configuration table mirrors this
 * schema one to one; keep them together.
 */
export const configSchema = z.object({
  MANAGEMENT_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LISTEN_ADDR: listenAddr.default(':8080'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres:|postgresql:)/, 'expected sqlite:<path> or postgres://…')
    .optional(),
  AUTO_MIGRATE: bool.default(true),
  /** PostgreSQL: a query (or taking a connection) that gets no answer in this time fails; 0 = wait forever. */
  DATABASE_QUERY_TIMEOUT_MS: int().default(10_000),
  OPENAI_API_URL: z.url().default('https://api.openai.com'),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  REQUIRE_ENCRYPTION_KEY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FILE: z.string().optional(),
  MANAGE_RATE_LIMIT_PER_MINUTE: int().default(600),
  MANAGE_BODY_LIMIT_BYTES: int(1024).default(1_048_576),
  SHUTDOWN_TIMEOUT_MS: int().default(30_000),
  // The proxy path
  PROXY_BODY_LIMIT_BYTES: int(1024).default(536_870_912),
  UPSTREAM_CONNECT_TIMEOUT_MS: int().default(10_000),
  UPSTREAM_HEADERS_TIMEOUT_MS: int().default(600_000),
  UPSTREAM_IDLE_TIMEOUT_MS: int().default(300_000),
  UPSTREAM_MAX_CONNECTIONS: int(1).default(256),
  STREAM_INCLUDE_USAGE: bool.default(true),
  TOKEN_CACHE_SIZE: int(1).default(10_000),
  TOKEN_CACHE_TTL_MS: int(1).default(30_000),
  USAGE_FLUSH_INTERVAL_MS: int(10).default(1_000),
  USAGE_BATCH_SIZE: int(1).default(500),
  USAGE_QUEUE_LIMIT: int(1).default(100_000),
  /** How often the usage journal is fsynced (off the request path); 0 leaves it to the OS. */
  USAGE_JOURNAL_FSYNC_MS: int().default(1_000),
  // Usage, cost and limits
  PRICING_FILE: z.string().min(1).optional(),
  USAGE_RETENTION_DAYS: int().default(90),
  MAINTENANCE_INTERVAL_MS: int().default(600_000),
  TOKEN_RETENTION_DAYS: int().default(30),
});

export type RawConfig = z.infer<typeof configSchema>;
