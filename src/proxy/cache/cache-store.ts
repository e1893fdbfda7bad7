import { LRUCache } from 'lru-cache';
import type { Clock } from '../../shared/clock.js';
import type { StoredResponse } from '../replay.js';

/** A stored answer and when it stops being served (epoch ms, the runtime's clock). */
export interface CacheEntry {
  response: StoredResponse;
  expiresAt: number;
}

/**
 * Where the response cache keeps entries: in this process (MemoryCacheStore) or in Redis
 * (RedisCacheStore). Keys are cache-key.ts hashes, which already name the project; the project is
 * passed too, for purges. A backend that cannot answer rejects: the cache reads that as a miss.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  get(projectId: string, key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  set(projectId: string, key: string, entry: CacheEntry): void | Promise<void>;
  /** Removes every entry of the project; resolves to how many (Redis: keys removed). */
  purge(projectId: string): Promise<number>;
}

interface Held {
  projectId: string;
  entry: CacheEntry;
  size: number;
}

/** Bytes an entry is charged beyond its body: headers, key, and the bookkeeping around them. */
const OVERHEAD = 256;

/**
 * Entries in this process: an LRU bounded by bytes (CACHE_MEMORY_BYTES, bodies and headers
 * counted), evicting the least recently used past it. Expiry is checked on read against the
 * runtime's clock (so tests move it); an expired entry is dropped when read or evicted.
 */
export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory';
  private readonly lru: LRUCache<string, Held> | undefined;

  constructor(
    maxBytes: number,
    private readonly now: Clock,
  ) {
    this.lru =
      maxBytes > 0 ? new LRUCache<string, Held>({ maxSize: maxBytes, sizeCalculation: (h) => h.size }) : undefined;
  }

  get(_projectId: string, key: string): CacheEntry | undefined {
    const held = this.lru?.get(key);
    if (!held) return undefined;
    if (held.entry.expiresAt <= this.now()) {
      this.lru?.delete(key);
      return undefined;
    }
    return held.entry;
  }

  set(projectId: string, key: string, entry: CacheEntry): void {
    const r = entry.response;
    let size = OVERHEAD + key.length + r.body.length;
    for (const h of r.headers) size += h.length;
    // An entry larger than the whole bound is refused by the LRU (nothing is evicted for it).
    this.lru?.set(key, { projectId, entry, size });
  }

  async purge(projectId: string): Promise<number> {
    if (!this.lru) return 0;
    const doomed: string[] = [];
    for (const [key, held] of this.lru.entries()) if (held.projectId === projectId) doomed.push(key);
    for (const key of doomed) this.lru.delete(key);
    return doomed.length;
  }

  /** For the bytes and entries gauges. */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get entries(): number {
    return this.lru?.size ?? 0;
  }
}
