import type { Clock } from '../shared/clock.js';
import { durationMs } from './key-health.js';

/** UPSTREAM_LATENCY_DECAY_MS and UPSTREAM_HEADROOM_*: how the balancer weighs and skips keys. */
export interface BalanceOptions {
  /** Time constant of the latency estimate's decay (ms). */
  decayMs: number;
  /** A key whose last response said this many requests (or tokens) remain, or fewer, is skipped until its reset. */
  minRequests: number;
  minTokens: number;
}

/** One key's load, from the attempts sent with it. */
interface Load {
  inFlight: number;
  /** A response came: `ewma` is a measure, not a placeholder. */
  answered: boolean;
  /** Peak-EWMA of the time to response headers (ms). */
  ewma: number;
  /** Clock time of the estimate's last update: its decay counts from here. */
  stamp: number;
  /** Clock time the rate-limit window its last response said is spent resets; 0: it has headroom. */
  spentUntil: number;
  /** Clock time it was last sent with or heard from (the sweep forgets idle keys). */
  seen: number;
}

/** The cost of a key that has requests out and no latency yet: above any measured one (Finagle's). */
const PENALTY = Number.MAX_SAFE_INTEGER / 65_536;
/** Added to the estimate: the clock's resolution, so a key faster than it still weighs its requests in flight. */
const RESOLUTION_MS = 1;

/**
 * Per upstream key (of projects with two or more): requests in flight, a peak-EWMA of latency
 * (Finagle's and linkerd's: a slower response raises it at once, faster ones lower it over the
 * decay time, and it decays toward zero while the key is not used, so an idle key is tried
 * again), and rate-limit headroom from the last response's `x-ratelimit-remaining-*` and
 * `x-ratelimit-reset-*`. key-choice.ts reads it to pick a key. Entries exist only for keys in use:
 * one idle for ten decay times, with nothing in flight and no window spent, is swept. Counts
 * only leave this file (metrics): no key ids.
 */
export class KeyLoad {
  private readonly loads = new Map<string, Load>();
  private lastSweep: number;
  /** Entries whose last response spent a window (reset passed or not): with none, no choice looks. */
  private spentEntries = 0;
  /** Choices that passed over a key out of headroom for one with some (a counter). */
  headroomSkips = 0;

  constructor(
    private readonly opts: BalanceOptions,
    readonly now: Clock,
  ) {
    this.lastSweep = now();
  }

  /** An attempt was dispatched with the key: exactly one `ended` must follow. */
  started(keyId: string): void {
    const t = this.now();
    let l = this.loads.get(keyId);
    if (!l) {
      if (t - this.lastSweep >= this.opts.decayMs) this.sweep(t);
      l = { inFlight: 0, answered: false, ewma: 0, stamp: t, spentUntil: 0, seen: t };
      this.loads.set(keyId, l);
    }
    l.inFlight++;
    l.seen = t;
  }

  /** The attempt ended, whatever the outcome (answered, failed, the client left). */
  ended(keyId: string): void {
    const l = this.loads.get(keyId);
    if (!l || l.inFlight === 0) return;
    l.inFlight--;
    l.seen = this.now();
  }

  /**
   * The key's response headers came `latencyMs` after the attempt was sent (by the same clock):
   * its estimate and headroom follow them.
   */
  observed(keyId: string, latencyMs: number, headers: Record<string, string | string[] | undefined>): void {
    const l = this.loads.get(keyId);
    if (!l) return;
    const t = this.now();
    l.answered = true;
    const w = this.weightOfPast(l, t);
    // Peak: a slower response counts at once; a faster one pulls the estimate down over the decay time.
    l.ewma = latencyMs > l.ewma * w ? latencyMs : l.ewma * w + latencyMs * (1 - w);
    l.stamp = t;
    l.seen = t;
    const until = this.spentUntil(headers, t);
    if ((until === 0) !== (l.spentUntil === 0)) this.spentEntries += until === 0 ? -1 : 1;
    l.spentUntil = until;
  }

  /** Whether any key may be out of headroom: a choice reads no key's window while none is. */
  get anySpent(): boolean {
    return this.spentEntries > 0;
  }

  /**
   * Clock time the key's spent rate-limit window resets, or 0 when it has headroom (or never
   * said). `t`: now, read once per choice.
   */
  exhaustedUntil(keyId: string, t: number): number {
    const l = this.loads.get(keyId);
    return l && l.spentUntil > t ? l.spentUntil : 0;
  }

  /**
   * What sending one more request with the key costs: (in flight + 1) × latency ÷ weight. Never
   * answered: 0 with nothing out (try it), else above every key that did.
   */
  cost(keyId: string, weight: number, t: number): number {
    const l = this.loads.get(keyId);
    if (!l) return 0;
    if (!l.answered) return l.inFlight > 0 ? PENALTY + l.inFlight : 0;
    return ((this.decay(l, t) + RESOLUTION_MS) * (l.inFlight + 1)) / weight;
  }

  /** Attempts in flight over every key, and keys out of headroom now (for the metrics). */
  counts(): { inFlight: number; outOfHeadroom: number } {
    const t = this.now();
    let inFlight = 0;
    let outOfHeadroom = 0;
    for (const l of this.loads.values()) {
      inFlight += l.inFlight;
      if (l.spentUntil > t) outOfHeadroom++;
    }
    return { inFlight, outOfHeadroom };
  }

  /** Keys with an entry (tests: the memory stays bounded). */
  get size(): number {
    return this.loads.size;
  }

  /** The estimate at `t`: decayed toward zero since its last update. */
  private decay(l: Load, t: number): number {
    return l.ewma * this.weightOfPast(l, t);
  }

  private weightOfPast(l: Load, t: number): number {
    return t > l.stamp ? Math.exp(-(t - l.stamp) / this.opts.decayMs) : 1;
  }

  /**
   * When the window the response says is spent (remaining at or below the threshold) resets: the
   * later of requests and tokens; 0 when neither is spent or says when. Two number reads for a
   * response with headroom; the reset is parsed only for a spent window.
   */
  private spentUntil(headers: Record<string, string | string[] | undefined>, t: number): number {
    let until = 0;
    if (atOrBelow(headers['x-ratelimit-remaining-requests'], this.opts.minRequests)) {
      until = Math.max(until, resetAt(headers['x-ratelimit-reset-requests'], t));
    }
    if (atOrBelow(headers['x-ratelimit-remaining-tokens'], this.opts.minTokens)) {
      until = Math.max(until, resetAt(headers['x-ratelimit-reset-tokens'], t));
    }
    return until;
  }

  /** Forgets keys idle for ten decay times with nothing in flight and no window spent. */
  private sweep(t: number): void {
    this.lastSweep = t;
    const idle = 10 * this.opts.decayMs;
    for (const [id, l] of this.loads) {
      if (l.inFlight > 0 || t - l.seen < idle || l.spentUntil > t) continue;
      if (l.spentUntil !== 0) this.spentEntries--;
      this.loads.delete(id);
    }
  }
}

function atOrBelow(v: string | string[] | undefined, min: number): boolean {
  if (typeof v !== 'string' || v === '') return false;
  const n = Number(v);
  return Number.isFinite(n) && n <= min;
}

function resetAt(v: string | string[] | undefined, t: number): number {
  const ms = typeof v === 'string' ? durationMs(v) : undefined;
  return ms === undefined || ms === 0 ? 0 : t + ms;
}
