import type { RedisConnection } from '../redis/connection.js';
import type { ClaimRef, IdempotencyClaim, IdempotencyHeld, IdempotencyStore } from './idempotency-store.js';

/**
 * Idempotency keys in Redis, one string per (project, key), hash-tagged by project for Redis
 * Cluster: `<prefix>:idem:{<project id>}:<key>`. Values:
 * - in flight: `f|<request id>|<fingerprint>|<expires at>|<lease expires at>`, expiring (PX) with
 *   its lease, so a dead instance's claim disappears by itself;
 * - done: `d|<fingerprint>|<expires at>|k|<response, base64>` (or `…|n|` when not kept), expiring
 *   at the end of the window.
 * A claim is `SET NX PX` (one round trip when the key is free); only when it is taken does a
 * script read it and take it over if its window ended or its lease lapsed, in one step. Times in
 * the values are the caller's clock, like the database's; Redis's own expiry only collects garbage.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly base: string;

  constructor(
    private readonly redis: RedisConnection,
    prefix = 'llmp',
  ) {
    this.base = `${prefix}:idem:`;
  }

  private keyOf(projectId: string, key: string): string {
    return `${this.base}{${projectId}}:${key}`;
  }

  async claim(c: IdempotencyClaim): Promise<IdempotencyHeld | null> {
    const k = this.keyOf(c.projectId, c.key);
    const value = `f|${c.requestId}|${c.fingerprint}|${c.now + c.ttlMs}|${c.now + c.leaseMs}`;
    const px = String(Math.max(1, c.leaseMs));
    const set = await this.redis.send<string | null>(['SET', k, value, 'NX', 'PX', px]);
    if (set === 'OK') return null;
    const held = await this.redis.script<string | null>(CLAIM, [k], [String(c.now), value, px, c.fingerprint]);
    return held === null ? null : parseHeld(held);
  }

  async complete(ref: ClaimRef, response: Buffer | null, now: number): Promise<boolean> {
    const k = this.keyOf(ref.projectId, ref.key);
    const done = await this.redis.script<number>(
      COMPLETE,
      [k],
      [ref.requestId, String(now), response ? response.toString('base64') : ''],
    );
    return done === 1;
  }

  async release(ref: ClaimRef): Promise<boolean> {
    const k = this.keyOf(ref.projectId, ref.key);
    return (await this.redis.script<number>(RELEASE, [k], [ref.requestId])) === 1;
  }

  async renew(_owner: string, claims: readonly ClaimRef[], now: number, leaseMs: number): Promise<void> {
    await Promise.all(
      claims.map((c) =>
        this.redis.script(
          RENEW,
          [this.keyOf(c.projectId, c.key)],
          [c.requestId, String(now + leaseMs), String(leaseMs)],
        ),
      ),
    );
  }

  /** Redis expires keys itself (PX): nothing to sweep. */
  async sweep(_now: number, _limit: number): Promise<number> {
    return 0;
  }
}

function parseHeld(v: string): IdempotencyHeld {
  const parts = v.split('|');
  if (parts[0] === 'f') return { state: 'in_flight', fingerprint: parts[2] as string };
  const kept = parts[3] === 'k';
  return {
    state: 'done',
    fingerprint: parts[1] as string,
    response: kept ? Buffer.from(parts[4] ?? '', 'base64') : null,
  };
}

/** Whether the value of KEYS[1] is the in-flight claim of request ARGV[1]. */
const OURS = `
local v = redis.call('GET', KEYS[1])
local ours = v and string.sub(v, 1, #ARGV[1] + 3) == 'f|' .. ARGV[1] .. '|'
`;

/** ARGV: now, the claim's value, its PX, its fingerprint. Returns what holds the key, or nil once claimed. */
const CLAIM = `
local now = tonumber(ARGV[1])
local v = redis.call('GET', KEYS[1])
if v then
  local live
  if string.sub(v, 1, 1) == 'd' then
    local e = string.match(v, '^d|[^|]*|(%d+)|')
    live = tonumber(e) > now
  else
    local fp, e, l = string.match(v, '^f|[^|]*|([^|]*)|(%d+)|(%d+)$')
    live = tonumber(e) > now and (tonumber(l) > now or fp ~= ARGV[4])
  end
  if live then return v end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return false
`;

/** ARGV: request id, now, the response (base64; empty: not kept). */
const COMPLETE = `${OURS}
if not ours then return 0 end
local fp, e = string.match(v, '^f|[^|]*|([^|]*)|(%d+)|')
local px = tonumber(e) - tonumber(ARGV[2])
if px < 1 then px = 1 end
local kept = 'k'
if ARGV[3] == '' then kept = 'n' end
redis.call('SET', KEYS[1], 'd|' .. fp .. '|' .. e .. '|' .. kept .. '|' .. ARGV[3], 'PX', string.format('%d', px))
return 1
`;

const RELEASE = `${OURS}
if not ours then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/** ARGV: request id, the lease's new end, its PX. */
const RENEW = `${OURS}
if not ours then return 0 end
local head = string.match(v, '^(f|[^|]*|[^|]*|%d+|)')
redis.call('SET', KEYS[1], head .. ARGV[2], 'PX', ARGV[3])
return 1
`;
