import { LRUCache } from 'lru-cache';
import type { Keyring } from '../crypto/keyring.js';
import { sha256Hex } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { compileEndpointRules, compileModelRules, type EndpointRule, type Glob } from '../limits/allowlist.js';
import type { LimitRow } from '../limits/limit-fields.js';
import type { BudgetPeriod, SubjectLimits } from '../limits/limits.js';
import type { UpstreamKey } from '../projects/upstream-key.js';
import type { Clock } from '../shared/clock.js';
import type { ProjectKeysRepo } from '../store/project-keys-repo.js';
import type { ProjectsRepo } from '../store/projects-repo.js';
import type { ProjectKeyRow, ProjectRow, TokenRow } from '../store/schema.js';
import { storeOutage } from '../store/store-errors.js';
import type { TokensRepo } from '../store/tokens-repo.js';

/** Everything the proxy needs about a token, resolved once and then served from memory. */
export interface TokenIdentity {
  tokenId: string;
  projectId: string;
  tokenActive: boolean;
  projectActive: boolean;
  expiresAt: number | null;
  /** The token's limits, then its project's (a ceiling over all of the project's tokens). */
  limits: [SubjectLimits, SubjectLimits];
  /** Model allowlists that apply (token's and project's; every one must match). */
  modelRules: Glob[][];
  /** Endpoint allowlists that apply (token's and project's; every one must match). */
  endpointRules: EndpointRule[][];
  /**
   * The project's enabled upstream keys, first key first, decrypted (they live only in memory);
   * the proxy picks one per request (proxy/key-choice.ts).
   */
  upstreamKeys: UpstreamKey[];
  /** The project lets a 5xx or timeout be retried without an Idempotency-Key (proxy/failover.ts). */
  retryServerErrors: boolean;
  /** The project's `cache_ttl_seconds`: its responses are cached this long; null: not cached (proxy/cache/). */
  cacheTtlSeconds: number | null;
}

/** What an invalidation covered: some tokens, a project's tokens, or every token. */
export type Invalidation = { tokenIds: readonly string[] } | { projectId: string } | { all: true };

export interface AuthenticatorOptions {
  cacheSize: number;
  cacheTtlMs: number;
  defaultUpstream: string;
}

/** Why a presented token does not pass, each with the message of its 401. */
const REFUSALS = {
  unknown_token: 'the token is not known to this proxy',
  token_expired: 'the token has expired',
  token_revoked: 'the token has been revoked',
  project_inactive: "the token's project is inactive",
} as const;
export type TokenRefusal = keyof typeof REFUSALS;

// lru-cache values must be objects; unknown tokens are cached as this marker.
const UNKNOWN = { unknown: true } as const;
type Entry = TokenIdentity | typeof UNKNOWN;

/**
 * Validates proxy tokens. Lookups go by SHA-256 of the presented token, are cached in a bounded LRU
 * with a TTL (unknown tokens too, briefly, so garbage tokens cannot hammer the database), and
 * concurrent misses for one token share one database read. Management changes invalidate entries
 * immediately through `invalidate` in the process that made them, and in every other instance
 * through the change feed (change-feed.ts), within CHANGES_POLL_MS.
 */
export class Authenticator {
  private readonly cache: LRUCache<string, Entry>;
  private readonly hashById = new Map<string, string>();
  /** The cached hashes of each project's tokens: a project change drops them without a scan. */
  private readonly hashesByProject = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<Entry>>();
  /** Bumped by every invalidation: a read that started before one must not fill the cache. */
  private generation = 0;
  /** Told of every invalidation (open Realtime sessions re-check their token: proxy/realtime/). */
  private readonly invalidationListeners = new Set<(scope: Invalidation) => void>();
  /** Lookups answered from the cache, and store reads (for metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly tokens: TokensRepo,
    private readonly projects: ProjectsRepo,
    private readonly projectKeys: ProjectKeysRepo,
    private readonly keyring: Keyring,
    private readonly now: Clock,
    private readonly opts: AuthenticatorOptions,
  ) {
    this.cache = new LRUCache<string, Entry>({
      max: opts.cacheSize,
      ttl: opts.cacheTtlMs,
      // The TTL runs on the same clock as token expiry, so a test that moves the clock moves both.
      // No debounce of that clock (lru-cache's default caches it for 1 ms of real time).
      perf: { now },
      ttlResolution: 0,
      // An expired entry stays until it is read again, evicted or invalidated: a store outage
      // serves it rather than refusing a token that was valid a moment ago (see `fetch`).
      noDeleteOnStaleGet: true,
      dispose: (value, key) => {
        if ('unknown' in value) return;
        if (this.hashById.get(value.tokenId) === key) this.hashById.delete(value.tokenId);
        const hashes = this.hashesByProject.get(value.projectId);
        hashes?.delete(key);
        if (hashes?.size === 0) this.hashesByProject.delete(value.projectId);
      },
    });
  }

  /**
   * Resolves a presented token to its identity or throws 401 `invalid_api_key`, reading the store
   * only on a cache miss (a store that cannot answer: 503 `store_unavailable`, never the driver's
   * error). Use `cached` first on the hot path: it answers synchronously.
   */
  async authenticate(presented: string): Promise<TokenIdentity> {
    const hash = sha256Hex(presented);
    return this.check(this.cache.get(hash) ?? (await this.load(hash)));
  }

  /**
   * The synchronous fast path: the identity when the token is cached (throws the same 401s), or
   * undefined when only `authenticate` can tell.
   */
  cached(presented: string): TokenIdentity | undefined {
    const entry = this.cache.get(sha256Hex(presented));
    if (entry === undefined) return undefined;
    this.hits++;
    return this.check(entry);
  }

  private check(entry: Entry): TokenIdentity {
    const problem = this.problem(entry);
    if (problem) {
      const known = 'unknown' in entry ? undefined : entry;
      throw errors.invalidApiKey(REFUSALS[problem], problem, known?.tokenId, known?.projectId);
    }
    return entry as TokenIdentity;
  }

  private problem(entry: Entry): TokenRefusal | undefined {
    if ('unknown' in entry) return 'unknown_token';
    // Expiry first: the maintenance job deactivates expired tokens, which are expired, not revoked.
    if (entry.expiresAt !== null && entry.expiresAt <= this.now()) return 'token_expired';
    if (!entry.tokenActive) return 'token_revoked';
    if (!entry.projectActive) return 'project_inactive';
    return undefined;
  }

  invalidate(tokenIds: readonly string[]): void {
    this.generation++;
    this.loading.clear();
    for (const id of tokenIds) {
      const hash = this.hashById.get(id);
      if (hash) this.cache.delete(hash);
    }
    this.tell({ tokenIds });
  }

  /** Drops every cached token of a project (its key, upstream, limits or state changed, or it is gone). */
  invalidateProject(projectId: string): void {
    this.generation++;
    this.loading.clear();
    for (const key of [...(this.hashesByProject.get(projectId) ?? [])]) this.cache.delete(key);
    this.tell({ projectId });
  }

  /** Drops everything: the next request of each token reads the store again. */
  invalidateAll(): void {
    this.generation++;
    this.loading.clear();
    this.cache.clear();
    this.tell({ all: true });
  }

  /**
   * Calls `listener` after every invalidation, from this process's management API or the change
   * feed (other instances'). Returns the function that stops it.
   */
  onInvalidate(listener: (scope: Invalidation) => void): () => void {
    this.invalidationListeners.add(listener);
    return () => this.invalidationListeners.delete(listener);
  }

  private tell(scope: Invalidation): void {
    for (const listener of this.invalidationListeners) listener(scope);
  }

  /** An upstream key as sent; one this keyring cannot open is the operator's error, not a bug. */
  private upstreamKey(row: ProjectKeyRow, projectBase: string | null): UpstreamKey {
    let secret: string;
    try {
      secret = this.keyring.decrypt(row.key_encrypted);
    } catch (err) {
      throw errors.upstreamKeyUnreadable(err as Error);
    }
    const url = new URL(row.base_url ?? projectBase ?? this.opts.defaultUpstream);
    return {
      id: row.id,
      name: row.name,
      origin: url.origin,
      prefix: url.pathname.replace(/\/+$/, ''),
      authStyle: row.auth_style as UpstreamKey['authStyle'],
      http2: row.http2 === 1,
      weight: row.weight,
      secret,
    };
  }

  /**
   * A token's identity by id, read from the store every time and whatever its state (revoked,
   * expired, project inactive): for work it started that finishes later (src/jobs/), whose usage
   * is charged to it all the same. Undefined when the token or its project no longer exists.
   */
  async identityById(tokenId: string): Promise<TokenIdentity | undefined> {
    const token = await this.tokens.findById(tokenId);
    const project = token ? await this.projects.findById(token.project_id) : undefined;
    if (!token || !project) return undefined;
    return this.identityOf(token, project, await this.projectKeys.enabledOf(project.id));
  }

  private identityOf(token: TokenRow, project: ProjectRow, keys: ProjectKeyRow[]): TokenIdentity {
    return {
      tokenId: token.id,
      projectId: project.id,
      tokenActive: token.is_active === 1,
      projectActive: project.is_active === 1,
      expiresAt: token.expires_at,
      limits: [subjectLimits('token', token), subjectLimits('project', project)],
      modelRules: rules([token.allowed_models, project.allowed_models], compileModelRules),
      endpointRules: rules([token.allowed_endpoints, project.allowed_endpoints], compileEndpointRules),
      upstreamKeys: keys.map((k) => this.upstreamKey(k, project.base_url)),
      retryServerErrors: project.retry_server_errors === 1,
      cacheTtlSeconds: project.cache_ttl_seconds,
    };
  }

  private load(hash: string): Promise<Entry> {
    let p = this.loading.get(hash);
    if (!p) {
      p = this.fetch(hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, p);
    }
    return p;
  }

  private async fetch(hash: string): Promise<Entry> {
    const generation = this.generation;
    this.misses++;
    let token: TokenRow | undefined;
    let project: ProjectRow | undefined;
    let keys: ProjectKeyRow[] = [];
    try {
      token = await this.tokens.findByHash(hash);
      project = token ? await this.projects.findById(token.project_id) : undefined;
      if (project) keys = await this.projectKeys.enabledOf(project.id);
    } catch (err) {
      // A database that cannot answer is a 503 the client may retry, not a failed check. A token
      // whose entry only outlived its TTL is served from it: nothing can have changed it meanwhile
      // that this process could learn (changes arrive through the same database), and invalidations
      // delete entries rather than let them expire. The entry keeps its age, so the first read after
      // the outage refreshes it.
      const outage = storeOutage(err);
      if (!outage) throw err;
      const stale = this.cache.get(hash, { allowStale: true });
      if (stale && !('unknown' in stale) && generation === this.generation) return stale;
      throw errors.storeUnavailable(outage);
    }
    if (!token || !project) {
      if (generation === this.generation) this.cache.set(hash, UNKNOWN, { ttl: Math.min(this.opts.cacheTtlMs, 5_000) });
      return UNKNOWN;
    }
    const identity = this.identityOf(token, project, keys);
    if (generation === this.generation) {
      this.cache.set(hash, identity);
      this.hashById.set(token.id, hash);
      const hashes = this.hashesByProject.get(project.id) ?? new Set<string>();
      this.hashesByProject.set(project.id, hashes.add(hash));
    }
    return identity;
  }
}

type SubjectRow = LimitRow & { id: string; request_count: number };

function subjectLimits(kind: 'token' | 'project', row: SubjectRow): SubjectLimits {
  return {
    kind,
    id: row.id,
    maxRequests: row.max_requests,
    requestCount: row.request_count,
    requestsPerMinute: row.requests_per_minute,
    maxConcurrent: row.max_concurrent,
    tokensPerMinute: row.tokens_per_minute,
    budgetNanoUsd: row.budget_nano_usd,
    budgetPeriod: row.budget_period as BudgetPeriod,
  };
}

/** Compiles the JSON-encoded allowlists that are set (null means no restriction). */
function rules<T>(lists: Array<string | null>, compile: (globs: string[]) => T[] | null): T[][] {
  return lists.filter((l): l is string => l !== null).map((l) => compile(JSON.parse(l) as string[]) as T[]);
}
