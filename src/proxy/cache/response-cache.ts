import type { Dispatcher } from 'undici';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { TokenIdentity } from '../../tokens/authenticator.js';
import type { ProxyRequest } from '../proxy-request.js';
import type { StoredResponse } from '../replay.js';
import type { RequestBody } from '../request-body.js';
import { ResponseRecorder } from '../response-recorder.js';
import { cacheKey } from './cache-key.js';
import { type CachePlan, cachePlan, cacheStatus, requestDirectives } from './cache-policy.js';
import type { CacheEntry, CacheStore } from './cache-store.js';

/** What `llm_proxy_cache_requests_total{result}` counts. */
export const CACHE_RESULTS = ['hit', 'miss', 'skip', 'bypass', 'stored', 'error'] as const;
export type CacheResult = (typeof CACHE_RESULTS)[number];

export interface ResponseCacheOptions {
  /** CACHE_MAX_ENTRY_BYTES: the largest body stored. */
  maxEntryBytes: number;
  /** CACHE_MAX_TTL_SECONDS. */
  maxTtlSeconds: number;
  now: Clock;
  logger: Logger;
}

/**
 * The tenant-safe response cache: per request, a plan (cache-policy.ts), a key that names the
 * project and upstream (cache-key.ts), a lookup, and a recorder on the way back whose complete 2xx
 * recording is stored. A backend failure is a miss (or an unstored answer), counted as `error`,
 * never the client's error.
 */
export class ResponseCache {
  readonly counts: Record<CacheResult, number> = { hit: 0, miss: 0, skip: 0, bypass: 0, stored: 0, error: 0 };
  private lastErrorLog = 0;

  constructor(
    readonly store: CacheStore,
    private readonly opts: ResponseCacheOptions,
  ) {}

  /** Whether a request may use the cache, so admission reads its body whole: a field check when the project has no cache. */
  wanted(pr: ProxyRequest, identity: TokenIdentity): boolean {
    if (identity.cacheTtlSeconds !== null) return true;
    const cc = pr.req.headers['cache-control'];
    return cc !== undefined && String(cc).includes('max-age');
  }

  /** The request's use of the cache; undefined when it has none (no Cache-Status either). */
  turn(pr: ProxyRequest, identity: TokenIdentity, body: RequestBody | undefined): CacheTurn | undefined {
    if (!this.wanted(pr, identity)) return undefined;
    const d = requestDirectives(pr.req.headers['cache-control']);
    const plan = cachePlan(pr.method, pr.path, d, identity.cacheTtlSeconds, this.opts.maxTtlSeconds);
    if (plan === undefined) return undefined;
    // Only a body in hand can be keyed; a background Responses API run is stateful.
    if (plan === 'bypass' || !body || body.object()?.background === true) {
      this.counts.bypass++;
      pr.extraHeaders = ['cache-status', cacheStatus.bypass];
      return undefined;
    }
    const key = pr.upstreamKey;
    const k = cacheKey({
      projectId: identity.projectId,
      upstream: key ? key.origin + key.prefix : '',
      method: pr.method,
      url: pr.req.url ?? pr.path,
      headers: pr.req.headers,
      body,
    });
    if (!plan.lookup) this.counts.skip++;
    return new CacheTurn(this, identity.projectId, k, plan);
  }

  /** A fresh entry within the request's accepted age, or undefined (a backend failure included). */
  async lookup(projectId: string, key: string, plan: CachePlan): Promise<CacheEntry | undefined> {
    let entry: CacheEntry | undefined;
    try {
      const got = this.store.get(projectId, key);
      entry = got instanceof Promise ? await got : got;
    } catch (err) {
      this.failed(err, 'lookup');
      return undefined;
    }
    if (entry && this.opts.now() - entry.response.storedAt <= plan.ttlMs) {
      this.counts.hit++;
      return entry;
    }
    this.counts.miss++;
    return undefined;
  }

  /** Stores a complete answer, off the request path: the client has it already. */
  save(projectId: string, key: string, plan: CachePlan, response: Omit<StoredResponse, 'storedAt'>): void {
    const now = this.opts.now();
    const entry: CacheEntry = { response: { ...response, storedAt: now }, expiresAt: now + plan.ttlMs };
    try {
      const done = this.store.set(projectId, key, entry);
      if (done instanceof Promise)
        done.then(
          () => this.counts.stored++,
          (err: unknown) => this.failed(err, 'store'),
        );
      else this.counts.stored++;
    } catch (err) {
      this.failed(err, 'store');
    }
  }

  purge(projectId: string): Promise<number> {
    return this.store.purge(projectId);
  }

  get maxEntryBytes(): number {
    return this.opts.maxEntryBytes;
  }

  now(): number {
    return this.opts.now();
  }

  /** Counted always; logged at most once a minute (an outage fails every call). */
  private failed(err: unknown, what: string): void {
    this.counts.error++;
    const t = Date.now();
    if (t - this.lastErrorLog < 60_000) return;
    this.lastErrorLog = t;
    this.opts.logger.warn({ err: (err as Error).message, what }, 'response cache backend failed; requests go upstream');
  }
}

/** One request's use of the cache: lookup before the upstream, recording and storing after. */
export class CacheTurn {
  private recorder: ResponseRecorder | undefined;
  /** Set when a lookup ran (Cache-Status says `uri-miss` rather than `request`). */
  private lookedUp = false;

  constructor(
    private readonly cache: ResponseCache,
    private readonly projectId: string,
    private readonly key: string,
    readonly plan: CachePlan,
  ) {}

  /** The handler chain's recorder (inside the usage capture), when the answer may be stored. */
  wrap(inner: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
    if (!this.plan.store) return inner;
    this.recorder = new ResponseRecorder(inner, this.cache.maxEntryBytes);
    return this.recorder;
  }

  lookup(): Promise<CacheEntry | undefined> {
    this.lookedUp = true;
    return this.cache.lookup(this.projectId, this.key, this.plan);
  }

  /** Cache-Status of a hit. */
  hitHeaders(entry: CacheEntry): string[] {
    return ['cache-status', cacheStatus.hit(entry.expiresAt - this.cache.now())];
  }

  /** Cache-Status of a forwarded answer, by its status: `stored` when a 2xx will be (if it completes within the bound). */
  forwardedHeaders(status: number): string[] {
    return ['cache-status', cacheStatus.forwarded(this.lookedUp, this.recorder !== undefined && isSuccess(status))];
  }

  /** The exchange ended: a complete 2xx recording is stored (never a cut, failed, oversize or non-2xx one). */
  ended(): void {
    const rec = this.recorder?.response();
    if (rec && isSuccess(rec.status)) this.cache.save(this.projectId, this.key, this.plan, rec);
  }
}

const isSuccess = (status: number) => status >= 200 && status < 300;
