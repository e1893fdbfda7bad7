import path from 'node:path';
import { OidcSignOn } from './access/oidc.js';
import { SessionsService } from './access/sessions-service.js';
import { SignIn } from './access/sign-in.js';
import { SignInLimiter } from './access/sign-in-limiter.js';
import { UsersService } from './access/users-service.js';
import { AuditFile } from './audit/audit-file.js';
import { AuditTrail } from './audit/audit-trail.js';
import { AuditChain } from './audit/chain.js';
import type { Config } from './config/config.js';
import { ConfigError, errors } from './errors.js';
import { Idempotency } from './idempotency/idempotency.js';
import { RedisIdempotencyStore } from './idempotency/redis-idempotency-store.js';
import { Heartbeat } from './instances/heartbeat.js';
import { InstancesRegistry } from './instances/registry.js';
import { JobFollower } from './jobs/job-follower.js';
import { FailoverLimiter, sweepEveryMs } from './limits/failover-limiter.js';
import type { Limiter } from './limits/limits.js';
import { MemoryLimiter, type SpentLoader } from './limits/memory-limiter.js';
import { Reconciler } from './limits/reconcile.js';
import { LimitTotals } from './limits/reconcile-store.js';
import { type CountLoader, RedisLimiter } from './limits/redis-limiter.js';
import { StoreCountedLimiter } from './limits/store-counted-limiter.js';
import { Lease, newInstanceId } from './maintenance/lease.js';
import { Maintenance } from './maintenance/maintenance.js';
import type { AccessServices } from './manage/index.js';
import type { Logger } from './observability/logger.js';
import { ProjectKeysService } from './projects/project-keys-service.js';
import { ProjectsService } from './projects/projects-service.js';
import { MemoryCacheStore } from './proxy/cache/cache-store.js';
import { RedisCacheStore } from './proxy/cache/redis-cache-store.js';
import { ResponseCache } from './proxy/cache/response-cache.js';
import { KeyHealth } from './proxy/key-health.js';
import { SharedCooldowns } from './proxy/shared-cooldowns.js';
import { UpstreamPools } from './proxy/upstream-pools.js';
import { RedisConnection } from './redis/connection.js';
import { readRedisTls } from './redis/tls-files.js';
import { type Clock, systemClock } from './shared/clock.js';
import { keepAliveUntil } from './shared/keep-alive.js';
import { ownDir, replayDirs, type WorkerSlot } from './shared/worker-dirs.js';
import { createShipping, type Shipping } from './shipping/shipping.js';
import { loadSecrets, type Secrets } from './startup/secret-files.js';
import { AdminSessionsRepo } from './store/admin-sessions-repo.js';
import { AdminUsersRepo } from './store/admin-users-repo.js';
import { ChangesRepo } from './store/changes-repo.js';
import { type Db, openDatabase, withoutQueryTimeout } from './store/database.js';
import { IdempotencyKeysRepo } from './store/idempotency-keys-repo.js';
import { InstancesRepo } from './store/instances-repo.js';
import { LeasesRepo } from './store/leases-repo.js';
import { LimitCountersRepo } from './store/limit-counters-repo.js';
import { migrateToLatest, pendingMigrations } from './store/migrate.js';
import { PricingRepo } from './store/pricing-repo.js';
import { ProjectKeysRepo } from './store/project-keys-repo.js';
import { ProjectsRepo } from './store/projects-repo.js';
import { storeOutage } from './store/store-errors.js';
import { TokensRepo } from './store/tokens-repo.js';
import { TrackedJobsRepo } from './store/tracked-jobs-repo.js';
import { toUsageRow } from './store/usage-record.js';
import { UsageRepo } from './store/usage-repo.js';
import { UsageStatsRepo } from './store/usage-stats-repo.js';
import { Authenticator } from './tokens/authenticator.js';
import { ChangeFeed, type ChangeSignal } from './tokens/change-feed.js';
import { PgChangeSignal } from './tokens/pg-change-signal.js';
import { RedisChangeSignal } from './tokens/redis-change-signal.js';
import { TokensService } from './tokens/tokens-service.js';
import { toBatch } from './usage/batch.js';
import { UsageJournal } from './usage/journal.js';
import { replayJournal } from './usage/journal-replay.js';
import { PricingTable } from './usage/pricing.js';
import { PricingService } from './usage/pricing-service.js';
import type { UsageSink } from './usage/usage-sink.js';
import { UsageStats } from './usage/usage-stats.js';
import { UsageWriter } from './usage/usage-writer.js';
import { WorkerSink } from './usage/worker-sink.js';
import { VERSION } from './version.js';

/** Everything a command needs besides the HTTP server: store, secrets and services, wired once. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  secrets: Secrets;
  projects: ProjectsService;
  /** Each project's upstream keys (its key pool). */
  projectKeys: ProjectKeysService;
  tokens: TokensService;
  authenticator: Authenticator;
  /** Applies every instance's management changes to `authenticator`; the server starts it. */
  changes: ChangeFeed;
  limiter: Limiter;
  /** The Redis limiter and its failure mode, when REDIS_URL is set (its state for /health). */
  sharedLimiter: FailoverLimiter | undefined;
  /** Caps and lifetime budgets through PostgreSQL, without Redis (EXACT_LIMITS_IN_DATABASE); the server starts its sweeper. */
  countedLimiter: StoreCountedLimiter | undefined;
  pricing: PricingTable;
  /** Pricing overrides through the management API (persisted, applied to `pricing` at once). */
  pricingService: PricingService;
  usage: UsageWriter;
  usageRepo: UsageRepo;
  usageStats: UsageStats;
  tokensRepo: TokensRepo;
  /** The tamper-evident audit trail: management changes, failed authentications, refusal summaries. */
  audit: AuditTrail;
  /** Sign-in and access to the management API: admin users, sessions, single sign-on. */
  access: AccessServices;
  /** Idempotency-Key: keys in Redis when REDIS_URL is set, else in the database. */
  idempotency: Idempotency;
  /** Background housekeeping; the server starts it, one-shot commands call `runOnce`. */
  maintenance: Maintenance;
  /** Follows batches and background responses until their usage is recorded; the server starts it. */
  jobs: JobFollower;
  /** This process among the instances sharing the database (random per process; holds leases). */
  instanceId: string;
  /** This process's row in the instances registry; the server starts it once it listens. */
  heartbeat: Heartbeat;
  /** Every instance's row, for the management API and /health. */
  instances: InstancesRegistry;
  pools: UpstreamPools;
  /** Cooldowns of upstream keys per model (UPSTREAM_COOLDOWN_*). */
  keyHealth: KeyHealth;
  /** With REDIS_URL: the cooldowns shared with the other instances; the server starts it. */
  sharedCooldowns: SharedCooldowns | undefined;
  /** The response cache: in memory, or in Redis (CACHE_BACKEND). */
  responseCache: ResponseCache;
  /** The log dispatcher, when a sink is configured and the runtime is the server's. */
  shipping: Shipping | undefined;
  /** The time source of expiry, limits and housekeeping (tests pass one they can move). */
  clock: Clock;
  /** Stops maintenance, closes upstream connections, flushes pending usage, then closes the store. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /**
   * Keep the crash journal of usage accounting (DATA_DIR/journal): replay what a previous process
   * left, then journal every admitted request. Only for the server: a one-shot command on the same
   * data directory must not replay the segments of a server that is running.
   */
  journal?: boolean;
  /** Time for every service (tests move it); the system clock by default. */
  clock?: Clock;
  /**
   * Ship usage events to the configured sinks, resending what a previous process spilled. Only for
   * the server, for the same reason as the journal.
   */
  shipping?: boolean;
  /** This process's slot under WORKERS > 1: its journal and spill folders are its slot's. */
  worker?: WorkerSlot;
}

/** Where the usage journal lives: per instance, on local disk (per worker under WORKERS: worker-dirs.ts). */
export const journalDir = (config: Config) => path.join(config.dataDir, 'journal');

export async function createRuntime(config: Config, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  // A bad PRICING_FILE stops the start before anything is opened.
  let pricing: PricingTable;
  try {
    pricing = PricingTable.load(config.pricingFile);
  } catch (err) {
    // Without PRICING_FILE the table is the package's own: missing, it is a broken installation.
    const why = config.pricingFile
      ? `PRICING_FILE: ${(err as Error).message}`
      : `the built-in price table is missing or damaged (reinstall llm-proxy, or set PRICING_FILE): ${(err as Error).message}`;
    throw new ConfigError(`Invalid configuration:\n  ${why}`);
  }
  const db = openDatabase(config.database, (err) =>
    logger.warn({ err: err.message }, 'database connection lost; will reconnect on next use'),
  );
  let secrets: Secrets;
  let audit: AuditTrail;
  let auditFile: AuditFile | undefined;
  let pricingService: PricingService;
  const usageRepo = new UsageRepo(db);
  // An in-memory database starts empty: there is nothing a journal could be replayed into.
  const journaled =
    opts.journal === true && !(config.database.kind === 'sqlite' && config.database.path === ':memory:');
  let journal: UsageJournal | undefined;
  let shipping: Shipping | undefined;
  try {
    await prepareSchema(db, config, logger);
    secrets = loadSecrets(config);
    auditFile = config.audit.file ? new AuditFile(config.audit.file, logger) : undefined;
    audit = new AuditTrail(db, AuditChain.fromKeyring(secrets.keyring), auditFile, logger, clock, {
      clientIp: config.audit.clientIp,
    });
    pricingService = new PricingService(new PricingRepo(db), pricing, clock, audit);
    const overrides = await pricingService.reload();
    if (overrides > 0) logger.debug({ overrides }, 'pricing overrides loaded');
    if (journaled) {
      // Before anything reads a request count or a budget: the limits must see every admitted request.
      for (const dir of replayDirs(journalDir(config), opts.worker)) {
        await replayJournal(dir, (rows) => usageRepo.writeBatch(toBatch(rows)), logger);
      }
      const dir = ownDir(journalDir(config), opts.worker);
      journal = new UsageJournal({ dir, fsyncMs: config.usage.journalFsyncMs, logger });
    }
    if (opts.shipping) shipping = createShipping(config.shipping, config.dataDir, logger, opts.worker);
  } catch (err) {
    journal?.close();
    await auditFile?.close();
    await db.destroy();
    throw err;
  }
  if (secrets.keyFile) {
    logger.warn(
      { file: secrets.keyFile },
      secrets.keyGenerated
        ? 'ENCRYPTION_KEY is not set: generated an encryption key file in the data directory. In production set ' +
            'ENCRYPTION_KEY (and REQUIRE_ENCRYPTION_KEY=true) and keep the key out of the data volume.'
        : 'ENCRYPTION_KEY is not set: using the key file in the data directory.',
    );
  }

  const projectsRepo = new ProjectsRepo(db);
  const tokensRepo = new TokensRepo(db);
  const tokens = new TokensService(tokensRepo, clock, audit);
  const projectKeysRepo = new ProjectKeysRepo(db);
  const projects = new ProjectsService(projectsRepo, tokens, secrets.keyring, clock, audit);
  const projectKeys = new ProjectKeysService(projectKeysRepo, projectsRepo, tokens, secrets.keyring, clock, audit);
  const authenticator = new Authenticator(tokensRepo, projectsRepo, projectKeysRepo, secrets.keyring, clock, {
    cacheSize: config.tokenCache.size,
    cacheTtlMs: config.tokenCache.ttlMs,
    defaultUpstream: config.openaiApiUrl,
  });
  tokens.onInvalidate((ids) => authenticator.invalidate(ids));
  // Other instances' changes (and this one's, again) arrive through the change log.
  const changesRepo = new ChangesRepo(db);
  // One Redis connection for limits and for publishing changes (the subscriber has its own).
  const redis = config.redis ? await redisConnection(config.redis, logger) : undefined;
  const changes = new ChangeFeed(changesRepo, authenticator, {
    pollMs: config.tokenCache.changesPollMs,
    logger,
    signal: changeSignal(config, audit, redis, logger),
  });
  // Budgets are seeded from the store on the request path: an outage there is the catalogue's 503.
  const loadSpent: SpentLoader = (subject, from) =>
    usageRepo.spentSince(subject.kind, subject.id, from).catch((err: unknown) => {
      const outage = storeOutage(err);
      throw outage ? errors.storeUnavailable(outage) : err;
    });
  const instanceId = newInstanceId();
  // The Redis sweeper and reconciliation, like maintenance, run in one instance: the holder of their lease.
  // A count seed reads request_count once this instance's finished requests are in it (`usage` is made below).
  const limitTotals = new LimitTotals(db);
  const flushUsage = () => usage.flush();
  const loadCount: CountLoader = (subject) =>
    flushUsage()
      .then(() => limitTotals.requestCount(subject.kind, subject.id))
      .catch((err: unknown) => {
        const outage = storeOutage(err);
        throw outage ? errors.storeUnavailable(outage) : err;
      });
  const sharedLimiter = redis
    ? await redisLimiter(
        config,
        redis,
        { loadSpent, loadCount, limitTotals, flushUsage },
        clock,
        logger,
        (name) => new Lease(new LeasesRepo(db), name, instanceId, clock, logger),
      )
    : undefined;
  const countedLimiter =
    !sharedLimiter && config.database.kind === 'postgres' && config.exactLimitsInDatabase
      ? new StoreCountedLimiter(new MemoryLimiter(loadSpent, clock), new LimitCountersRepo(db), loadSpent, {
          instanceId,
          clock,
          logger,
          sweepLease: new Lease(new LeasesRepo(db), 'limits-sweeper', instanceId, clock, logger),
          reservationTtlMs: config.reservationTimeoutMs,
          sweepEveryMs: sweepEveryMs(config.reservationTimeoutMs),
        })
      : undefined;
  const limiter: Limiter = sharedLimiter ?? countedLimiter ?? new MemoryLimiter(loadSpent, clock);
  const usage = new UsageWriter(usageSink(config, usageRepo, logger), logger, config.usage, journal);
  const pools = new UpstreamPools(config.proxy.upstream);
  const keyHealth = new KeyHealth(config.proxy.cooldown, clock);
  const sharedCooldowns = redis ? new SharedCooldowns(keyHealth, { connection: redis, logger, clock }) : undefined;
  const access = accessServices(config, db, secrets, audit, clock);
  const instancesRepo = new InstancesRepo(db);
  const redisView = () => {
    const h = sharedLimiter?.health();
    return h ? { state: h.state, mode: h.mode } : null;
  };
  const heartbeat = new Heartbeat(instancesRepo, {
    id: instanceId,
    version: VERSION,
    worker: opts.worker?.slot ?? null,
    intervalMs: config.instances.heartbeatMs,
    clock,
    logger,
    sample: () => {
      const failing = usage.health().failing;
      return { database: failing === undefined ? 'ok' : `failing: ${failing}`, redis: redisView()?.state ?? null };
    },
  });
  const instances = new InstancesRegistry(instancesRepo, {
    heartbeat,
    clock,
    goneAfterMs: config.instances.goneAfterMs,
    databaseKind: config.database.kind,
    redis: redisView,
  });
  const idempotencyKeys = new IdempotencyKeysRepo(db);
  // With Redis, keys live there (one round trip per claim, shared by every instance); else in the database.
  const idempotency = new Idempotency(
    redis ? new RedisIdempotencyStore(redis) : idempotencyKeys,
    config.proxy.idempotency,
    instanceId,
    clock,
    logger,
  );
  const maintenance = new Maintenance(
    {
      usageRepo,
      tokensRepo,
      tokens,
      audit,
      pricing: pricingService,
      sessions: access.sessions,
      changes: changesRepo,
      instances: instancesRepo,
      idempotencyKeys: redis ? undefined : idempotencyKeys,
      logger,
      now: clock,
      // One instance of those sharing the database runs the periodic passes.
      lease: new Lease(new LeasesRepo(db), 'maintenance', instanceId, clock, logger),
    },
    config.maintenance,
  );
  const jobs = new JobFollower(
    {
      repo: new TrackedJobsRepo(db),
      identityOf: (tokenId) => authenticator.identityById(tokenId),
      limiter,
      pricing,
      record: (rec) => {
        usage.record(rec);
        shipping?.enqueue(rec);
      },
      // A flush that failed leaves its records queued (and journaled): the job is not done until the store has them.
      flushed: () => usage.flush().then(() => usage.health().failing === undefined),
      lease: new Lease(new LeasesRepo(db), 'jobs', instanceId, clock, logger),
      clock,
      logger,
    },
    config.jobs,
  );
  return {
    config,
    logger,
    db,
    secrets,
    projects,
    projectKeys,
    tokens,
    authenticator,
    changes,
    limiter,
    sharedLimiter,
    countedLimiter,
    pricing,
    pricingService,
    usage,
    usageRepo,
    // A request's record is looked up right after its response: the writer is asked to write what it holds.
    usageStats: new UsageStats(new UsageStatsRepo(db), () => usage.flush()),
    tokensRepo,
    audit,
    access,
    idempotency,
    maintenance,
    jobs,
    instanceId,
    heartbeat,
    instances,
    pools,
    keyHealth,
    sharedCooldowns,
    responseCache: new ResponseCache(
      config.proxy.cache.backend === 'redis' && redis
        ? new RedisCacheStore(redis, clock)
        : new MemoryCacheStore(config.proxy.cache.memoryBytes, clock),
      {
        maxEntryBytes: config.proxy.cache.maxEntryBytes,
        maxTtlSeconds: config.proxy.cache.maxTtlSeconds,
        now: clock,
        logger,
      },
    ),
    shipping,
    clock,
    // A one-shot command awaits this and ends: every step runs, whatever handles it waits on.
    close: () =>
      keepAliveUntil(
        (async () => {
          await maintenance.stop();
          await jobs.stop();
          idempotency.stop();
          // Its row goes before the store closes (a no-op for commands that never started it).
          await heartbeat.stop();
          await changes.stop();
          await pools.close();
          // Before the limiter closes the Redis connection it writes through.
          await sharedCooldowns?.close();
          await limiter.close();
          // Normally closed already, with the time shutdown had left; here whatever is unsent is spilled at once.
          await shipping?.close(0);
          await usage.close();
          // Pending refusal summaries are written before the store closes.
          await audit.close();
          await db.destroy();
        })(),
      ),
  };
}

/**
 * The Redis limiter behind its failure mode. An unreachable Redis does not stop the start: the
 * failure mode applies until it answers (the connection keeps retrying in the background).
 */
async function redisLimiter(
  config: Config,
  connection: RedisConnection,
  store: { loadSpent: SpentLoader; loadCount: CountLoader; limitTotals: LimitTotals; flushUsage: () => Promise<void> },
  clock: Clock,
  logger: Logger,
  lease: (name: string) => Lease,
) {
  const redis = config.redis as NonNullable<Config['redis']>;
  const { loadSpent } = store;
  // A budget seed reads the spend once this instance's finished requests are in it, as a count seed does.
  const seedSpent: SpentLoader = (subject, from) => store.flushUsage().then(() => loadSpent(subject, from));
  const shared = new RedisLimiter(connection, seedSpent, {
    onError: (err, what) => logger.debug({ err: err.message, what }, 'Redis limiter call failed'),
    loadCount: store.loadCount,
    leaseMs: config.reservationTimeoutMs,
  });
  const failover = new FailoverLimiter(shared, connection, loadSpent, clock, {
    mode: redis.failureMode,
    logger,
    sweepEveryMs: sweepEveryMs(config.reservationTimeoutMs),
    sweepLease: lease('redis-sweeper'),
    reconciler: new Reconciler(connection, store.limitTotals, {
      base: shared.keyBase,
      intervalMs: redis.reconcile.intervalMs,
      correct: redis.reconcile.correct,
      reservationLeaseMs: config.reservationTimeoutMs,
      logger,
      lease: lease('redis-reconcile'),
    }),
  });
  await failover.probe();
  if (failover.health().state === 'ok') {
    logger.info({ redis: connection.where, mode: redis.failureMode }, 'limits are kept in Redis');
  }
  return failover;
}

/** Connects in the background if Redis is not there yet: an unreachable Redis does not stop the start. */
async function redisConnection(redis: NonNullable<Config['redis']>, logger: Logger): Promise<RedisConnection> {
  const connection = new RedisConnection({
    url: redis.url,
    cluster: redis.cluster,
    tls: readRedisTls(redis.tls),
    connectTimeoutMs: redis.connectTimeoutMs,
    commandTimeoutMs: redis.commandTimeoutMs,
    breakerFailures: 3,
    breakerOpenMs: 1000,
    // Each reconnect attempt reports one: the failover limiter logs the outage once instead.
    onError: (err) => logger.debug({ err: err.message }, 'Redis connection error'),
  });
  await connection.connect().catch(() => undefined);
  return connection;
}

/**
 * What wakes the change feed: Redis pub/sub when REDIS_URL is set (published after each commit),
 * else PostgreSQL LISTEN; SQLite alone has none (one process: its own changes apply at once).
 */
function changeSignal(
  config: Config,
  audit: AuditTrail,
  redis: RedisConnection | undefined,
  logger: Logger,
): ChangeSignal | undefined {
  if (config.redis && redis) {
    const signal = new RedisChangeSignal({ publisher: redis, logger });
    audit.onChangesCommitted((seq) => signal.publish(seq));
    return signal;
  }
  return config.database.kind === 'postgres' ? new PgChangeSignal(config.database.url, logger) : undefined;
}

function accessServices(config: Config, db: Db, secrets: Secrets, audit: AuditTrail, clock: Clock): AccessServices {
  const { access } = config;
  const users = new UsersService(new AdminUsersRepo(db), audit, clock);
  const sessions = new SessionsService(new AdminSessionsRepo(db), audit, clock, {
    idleMs: access.sessionIdleMs,
    maxMs: access.sessionMaxMs,
    clientIp: config.audit.clientIp,
  });
  const limiter = new SignInLimiter(access.signInAttemptsPerMinute, clock);
  return {
    users,
    sessions,
    signIn: new SignIn(secrets.managementToken, users, sessions, audit, limiter),
    oidc: access.oidc ? new OidcSignOn(access.oidc, secrets.keyring, clock) : undefined,
  };
}

export async function prepareSchema(db: Db, config: Config, logger: Logger): Promise<void> {
  // A newer version's migrations only add (docs/operations.md#upgrades): during a rolling upgrade or
  // after a rollback this version serves on its schema.
  const onNewer = (newer: string[]) =>
    logger.warn({ newer }, 'database migrated by a newer version of llm-proxy; serving on its schema');
  if (config.autoMigrate) {
    // Migrations may rightly run longer than DATABASE_QUERY_TIMEOUT_MS: they get their own connection.
    const untimed = config.database.kind === 'postgres' ? openDatabase(withoutQueryTimeout(config.database)) : db;
    try {
      const applied = await migrateToLatest(untimed, { onNewer });
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    } finally {
      if (untimed !== db) await untimed.destroy();
    }
    return;
  }
  const pending = await pendingMigrations(db, { onNewer });
  if (pending.length > 0) {
    throw new Error(`database has pending migrations (${pending.join(', ')}); run "llm-proxy migrate"`);
  }
}

/**
 * SQLite writes are synchronous, so a file database gets its usage written from a worker thread;
 * PostgreSQL writes are network I/O and already leave the event loop free.
 */
function usageSink(config: Config, repo: UsageRepo, logger: Logger): UsageSink {
  if (config.database.kind === 'sqlite' && config.database.path !== ':memory:') {
    return new WorkerSink(config.database.path, logger);
  }
  return { write: (records) => repo.writeBatch(toBatch(records.map(toUsageRow))), close: async () => {} };
}
