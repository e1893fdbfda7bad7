import type { RedisConnection } from '../../redis/connection.js';
import type { Clock } from '../../shared/clock.js';
import { storedFromJson, storedToJson } from '../replay.js';
import type { CacheEntry, CacheStore } from './cache-store.js';

/**
 * Entries in Redis, shared by every instance. Key: `llmp:cache:v1:{p:<project id>}:<hash>`: the
 * hash tag keeps a project's entries in one Cluster slot, so a purge is a SCAN of its prefix and
 * UNLINKs within that slot. Value: the expiry (epoch ms) and the stored response's JSON form, on
 * two lines; Redis drops it itself at that time (SET … PX). An entry that does not parse is a miss.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: RedisConnection,
    private readonly now: Clock,
    private readonly prefix = 'llmp:cache:v1:',
  ) {}

  private projectPrefix(projectId: string): string {
    return `${this.prefix}{p:${projectId}}:`;
  }

  async get(projectId: string, key: string): Promise<CacheEntry | undefined> {
    const value = await this.redis.send<string | null>(['GET', this.projectPrefix(projectId) + key]);
    if (typeof value !== 'string') return undefined;
    const nl = value.indexOf('\n');
    const expiresAt = Number(value.slice(0, nl));
    if (nl < 1 || !Number.isFinite(expiresAt) || expiresAt <= this.now()) return undefined;
    const response = storedFromJson(value.slice(nl + 1));
    return response && { response, expiresAt };
  }

  async set(projectId: string, key: string, entry: CacheEntry): Promise<void> {
    const ttlMs = Math.ceil(entry.expiresAt - this.now());
    if (ttlMs <= 0) return;
    const value = `${entry.expiresAt}\n${storedToJson(entry.response)}`;
    await this.redis.send(['SET', this.projectPrefix(projectId) + key, value, 'PX', String(ttlMs)]);
  }

  async purge(projectId: string): Promise<number> {
    const keys = await this.redis.scan(`${globEscape(this.projectPrefix(projectId))}*`);
    let removed = 0;
    for (let i = 0; i < keys.length; i += 500) {
      removed += await this.redis.send<number>(['UNLINK', ...keys.slice(i, i + 500)]);
    }
    return removed;
  }
}

/** A literal for a SCAN MATCH pattern. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
