import type { Idempotency } from '../idempotency/idempotency.js';
import type { Limiter } from '../limits/limits.js';
import type { AccessBodies, AccessClient, AccessEntry, TraceIds } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { Authenticator } from '../tokens/authenticator.js';
import type { AdmittedUsage } from '../usage/journal-format.js';
import type { PricingTable } from '../usage/pricing.js';
import type { UsageAdmission, UsageRecord } from '../usage/usage-writer.js';
import type { BodyMemory } from './body-memory.js';
import type { BodyWatch } from './body-watch.js';
import type { ResponseCache } from './cache/response-cache.js';
import type { ProxyHooks } from './hooks.js';
import type { JobTracker } from './job-sightings.js';
import type { KeyHealth } from './key-health.js';
import type { KeyLoad } from './key-load.js';
import type { Retries } from './retry-policy.js';
import type { UpstreamPools } from './upstream-pools.js';

/** What the request path uses, wired by the composition root (main.ts). */
export interface ProxyDeps {
  authenticator: Authenticator;
  limiter: Limiter;
  pricing: PricingTable;
  pools: UpstreamPools;
  /** Cooldowns of upstream keys that failed (UPSTREAM_COOLDOWN_*). */
  keyHealth: KeyHealth;
  /** In-flight requests, latency and rate-limit headroom per key: what the balancer weighs (key-choice.ts). */
  keyLoad: KeyLoad;
  /** Retries and failover: options, the global budget, counts (UPSTREAM_RETRY_*). */
  retries: Retries;
  /** Cuts request bodies that stall or take too long (PROXY_BODY_IDLE_TIMEOUT_MS, PROXY_BODY_TIMEOUT_MS). */
  bodyWatch: BodyWatch;
  /** Bounds the memory held by bodies being read whole (PROXY_BODY_MEMORY_BYTES). */
  bodyMemory: BodyMemory;
  /** Journals an admitted request, then calls `dispatch`: a crash cannot lose its accounting. */
  admitUsage: (a: AdmittedUsage, dispatch: () => void) => UsageAdmission;
  recordUsage: (rec: UsageRecord, admission: UsageAdmission) => void;
  logger: Logger;
  accessLog: (e: AccessEntry, client: AccessClient, trace?: TraceIds, bodies?: AccessBodies) => void;
  /** LOG_BODIES: bytes of each body kept for the request line; 0 = bodies are not logged. */
  logBodyMaxBytes: number;
  bodyLimitBytes: number;
  /** PROXY_MAX_IN_FLIGHT: requests in flight past which new ones are shed (load-shedder.ts). */
  maxInFlight: number;
  streamIncludeUsage: boolean;
  /** The runtime's clock: what rate limits and budget periods count time by. */
  now: Clock;
  /** Idempotency-Key (IDEMPOTENCY_*); absent: the header passes through like any other. */
  idempotency?: Idempotency;
  /** The response cache (cache/response-cache.ts). */
  cache?: ResponseCache;
  /** Metrics and tracing: see hooks.ts. */
  hooks?: ProxyHooks;
  /** Follows batches and background responses until their usage is recorded (job-sightings.ts). */
  jobs?: JobTracker;
}
