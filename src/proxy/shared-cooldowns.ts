import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from '../redis/connection.js';
import { RedisSubscriber } from '../redis/subscriber.js';
import type { Clock } from '../shared/clock.js';
import type { CooldownListener, KeyHealth } from './key-health.js';

/**
 * Stores or closes one cooldown in the hash of live ones and announces it, in one round trip.
 * Fields are `<until>:<failures>` (epoch ms of the instance that wrote it); an until only grows,
 * and a close removes a field only if no later failure extended it. Fields that ended are dropped
 * on each write and the hash expires with its last cooldown, so it holds only live ones (a few:
 * keys × models cooling). KEYS[1]: the hash; ARGV: op (cool|close), field, until, failures, now,
 * channel, message.
 */
const SCRIPT = `
local f, u, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5])
local function untilOf(v) return tonumber(string.match(v, '^(%d+)')) or 0 end
local cur = redis.call('HGET', KEYS[1], f)
if ARGV[1] == 'cool' then
  local value = ARGV[3] .. ':' .. ARGV[4]
  if cur and untilOf(cur) > u then
    local failures = math.max(tonumber(string.match(cur, ':(%d+)$')) or 0, tonumber(ARGV[4]))
    value = string.match(cur, '^(%d+)') .. ':' .. failures
  end
  redis.call('HSET', KEYS[1], f, value)
elseif cur and untilOf(cur) <= u then
  redis.call('HDEL', KEYS[1], f)
end
local all = redis.call('HGETALL', KEYS[1])
local last = 0
for i = 1, #all, 2 do
  local at = untilOf(all[i + 1])
  if at <= now then redis.call('HDEL', KEYS[1], all[i]) elseif at > last then last = at end
end
if last > now then redis.call('PEXPIRE', KEYS[1], last - now) end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
`;

export interface SharedCooldownsOptions {
  /** Writes go through the shared connection (its command timeout and breaker); the subscriber gets its settings from it. */
  connection: RedisConnection;
  logger: Logger;
  clock: Clock;
  /** Key namespace (`<prefix>:v1:cooldowns`); tests use one of their own. */
  prefix?: string;
}

/** What travels on the channel: a cooldown started or extended (`f`: failures), or closed. */
interface Message {
  /** The instance that sent it (its own come back to it, and are ignored). */
  o: string;
  op: 'cool' | 'close';
  n: string;
  u: number;
  f?: number;
}

/**
 * Cooldowns shared between instances through Redis. Each one this instance starts, extends or
 * closes is written to a hash of live cooldowns (with its expiry) and published, fire-and-forget:
 * the request that failed never waits on Redis. Other instances hear it within milliseconds on the
 * channel, and one that starts later, or whose subscriber was cut and missed messages, reads the
 * hash each time its subscription is (re)established. Only key ids, models and times go to Redis,
 * never a key. While Redis cannot answer, each instance keeps its own cooldowns (logged once per
 * outage; `state` for the metrics) and catches up when its subscriber is back.
 */
export class SharedCooldowns implements CooldownListener {
  readonly name = `llm-proxy-cooldowns-${randomBytes(4).toString('hex')}`;
  private readonly origin = randomBytes(8).toString('hex');
  private readonly hash: string;
  private readonly channel: string;
  private readonly subscriber: RedisSubscriber;
  private stopped = false;
  private writeFailing = false;

  constructor(
    private readonly health: KeyHealth,
    private readonly opts: SharedCooldownsOptions,
  ) {
    const base = `${opts.prefix ?? 'llmp'}:v1:`;
    this.hash = `${base}cooldowns`;
    this.channel = `${base}cooldowns`;
    this.subscriber = new RedisSubscriber({
      connection: opts.connection,
      name: this.name,
      channel: this.channel,
      logger: opts.logger,
      subject: 'upstream key cooldowns',
      whileDown: "other instances' cooldowns do not reach this one until it is back",
      onMessage: (text) => {
        const m = parse(text);
        if (m && m.o !== this.origin) this.apply(m);
      },
      onSubscribed: () => this.load(),
    });
  }

  /** ok: subscribed and the last write went through; failing: this instance keeps its own cooldowns. */
  get state(): 'ok' | 'failing' {
    return this.subscriber.listening && !this.writeFailing ? 'ok' : 'failing';
  }

  /** Subscribes (reading the live cooldowns once subscribed), and shares this instance's from now on. */
  start(): void {
    this.health.share(this);
    this.subscriber.start();
  }

  cooled(name: string, until: number, failures: number): void {
    this.write({ o: this.origin, op: 'cool', n: name, u: until, f: failures });
  }

  closed(name: string, until: number): void {
    this.write({ o: this.origin, op: 'close', n: name, u: until });
  }

  private write(m: Message): void {
    if (this.stopped) return;
    const args = [m.op, m.n, String(m.u), String(m.f ?? 0), String(this.opts.clock()), this.channel, JSON.stringify(m)];
    this.opts.connection.script(SCRIPT, [this.hash], args).then(
      () => {
        if (!this.writeFailing) return;
        this.writeFailing = false;
        this.opts.logger.info('upstream key cooldowns: sharing through Redis again');
      },
      (err: Error) => {
        if (this.writeFailing) return;
        this.writeFailing = true;
        this.opts.logger.warn(
          { err: err.message },
          'upstream key cooldowns: sharing a cooldown through Redis failed; each instance keeps its own until Redis answers',
        );
      },
    );
  }

  private apply(m: Message): void {
    if (m.op === 'cool') this.health.adopt(m.n, m.u, m.f ?? 1);
    else this.health.release(m.n, m.u);
  }

  /** The live cooldowns in Redis, taken into this instance's (what it missed while not subscribed). */
  private async load(): Promise<void> {
    const reply = await this.opts.connection.send<string[] | Record<string, string>>(['HGETALL', this.hash]);
    const entries = Array.isArray(reply) ? pairs(reply) : Object.entries(reply);
    for (const [name, value] of entries) {
      const [until, failures] = value.split(':').map(Number);
      if (Number.isSafeInteger(until) && Number.isSafeInteger(failures)) {
        this.health.adopt(name, until as number, failures as number);
      }
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.subscriber.close();
  }
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

/** A message from the channel; undefined for anything else (another version's, or garbage). */
function parse(text: string): Message | undefined {
  try {
    const m = JSON.parse(text) as Partial<Message>;
    if (typeof m.o !== 'string' || typeof m.n !== 'string' || !Number.isSafeInteger(m.u)) return undefined;
    if (m.op === 'cool' && Number.isSafeInteger(m.f)) return m as Message;
    if (m.op === 'close') return m as Message;
  } catch {
    // not ours
  }
  return undefined;
}
