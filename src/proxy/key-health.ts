import type { Clock } from '../shared/clock.js';

/** UPSTREAM_COOLDOWN_*: the default cooldown, doubling per failure up to the ceiling, and the wait for a key. */
export interface CooldownOptions {
  baseMs: number;
  maxMs: number;
  /** Longest a request waits for a key when every key of its project is cooling down (0 = none). */
  waitMs: number;
}

/** How an attempt with a key ended, as the cooldown counts it. */
export type KeyOutcome =
  | { kind: 'ok' }
  /** 429, 5xx or a connection that failed; `hintMs`: how long the upstream asked to wait, if it said. */
  | { kind: 'failed'; hintMs: number | undefined }
  /** Says nothing about the key (the client left, a 4xx of the request's own): a trial slot is freed. */
  | { kind: 'neutral' };

/** A key's cooldown as the management API shows it: `until` is the clock time its trial may start. */
export interface KeyCooldown {
  model: string | null;
  state: 'cooling' | 'half_open';
  until: number;
}

/**
 * Told of every cooldown this instance starts or extends, and every one it closes (a trial's
 * success), to share them with other instances (shared-cooldowns.ts). `name`: the key id, or the
 * key id and the model joined by a NUL; `until`: epoch ms.
 */
export interface CooldownListener {
  cooled(name: string, until: number, failures: number): void;
  closed(name: string, until: number): void;
}

interface Cooldown {
  /** Clock time the key may be tried again. */
  until: number;
  /** Failures in a row, for the default's doubling. */
  failures: number;
  /** Clock time a half-open trial was sent; 0 when none is out. */
  trialAt: number;
}

/**
 * Cooldowns per (upstream key, model), in this process's memory: a key that answered 429 or 5xx,
 * or could not be reached, is skipped until the upstream's `retry-after` / `retry-after-ms` /
 * `x-ratelimit-reset-*` time, else a default doubling from UPSTREAM_COOLDOWN_MS to
 * UPSTREAM_COOLDOWN_MAX_MS; a further failure extends it. After it the key is half-open: one
 * request tries it (others still skip it) and its success closes the cooldown, its failure starts
 * a longer one. A trial that never reports (a bug) is given up after the ceiling, and a half-open
 * entry no request tried within the ceiling is forgotten, so no key stays out, and no entry stays,
 * forever. A failure whose model is unknown (the body was not read) cools the key for every model.
 * Healthy keys have no entry: with nothing cooling, a check is one `Map.size` read. Requests
 * waiting for a key hear every report (`changed`), so a trial's success lets them go at once.
 */
export class KeyHealth {
  private readonly cooling = new Map<string, Cooldown>();
  private readonly waiters = new Set<() => void>();
  private listener: CooldownListener | undefined;

  constructor(
    private readonly opts: CooldownOptions,
    private readonly now: Clock,
  ) {}

  /** Another instance's cooldowns reach this one through `adopt` and `release`; this one's go to `listener`. */
  share(listener: CooldownListener): void {
    this.listener = listener;
  }

  /**
   * A cooldown another instance started or extended: skipped here too until `until` (never
   * shortened); an extension sends an out trial's answer nowhere (the key failed since).
   */
  adopt(name: string, until: number, failures: number): void {
    const t = this.now();
    if (until <= t) return;
    const c = this.cooling.get(name);
    if (!c) {
      this.cooling.set(name, { until, failures, trialAt: 0 });
      return;
    }
    c.failures = Math.max(c.failures, failures);
    if (until <= c.until) return;
    c.until = until;
    c.trialAt = 0;
  }

  /** A cooldown another instance closed: closed here too, unless it was extended past `until` since. */
  release(name: string, until: number): void {
    const c = this.cooling.get(name);
    if (!c || c.until > until) return;
    this.cooling.delete(name);
    this.wake();
  }

  get waitMs(): number {
    return this.opts.waitMs;
  }

  /** Whether the key may be used for the model now (a half-open key: only if its trial is not out). */
  usable(keyId: string, model: string): boolean {
    if (this.cooling.size === 0) return true;
    const t = this.now();
    return (
      this.open(this.cooling.get(keyId), t) && (model === '' || this.open(this.cooling.get(entry(keyId, model)), t))
    );
  }

  /**
   * Whether the key is half-open for the model with no trial out: the next request should be its
   * trial, so a recovered key is back in service at once rather than when chance picks it.
   */
  trialDue(keyId: string, model: string): boolean {
    if (this.cooling.size === 0) return false;
    const t = this.now();
    const bare = this.cooling.get(keyId);
    const own = model === '' ? undefined : this.cooling.get(entry(keyId, model));
    if (!this.open(bare, t) || !this.open(own, t)) return false;
    return bare !== undefined || own !== undefined;
  }

  /** The key was chosen: if it is half-open, this request is its trial. */
  taken(keyId: string, model: string): void {
    if (this.cooling.size === 0) return;
    const t = this.now();
    for (const c of [this.cooling.get(keyId), model === '' ? undefined : this.cooling.get(entry(keyId, model))]) {
      if (c && t >= c.until) c.trialAt = t;
    }
  }

  /** How an attempt with the key ended. */
  report(keyId: string, model: string, outcome: KeyOutcome): void {
    const name = model === '' ? keyId : entry(keyId, model);
    if (outcome.kind === 'failed') {
      this.fail(name, outcome.hintMs);
      this.wake();
      return;
    }
    if (this.cooling.size === 0) return;
    this.settle(keyId, name, model, outcome);
    this.wake();
  }

  /**
   * Resolves after `ms`, or at the next report, whichever comes first; `cancel` resolves it early
   * (false). True when it ran its course or heard a report.
   */
  changed(ms: number): { done: Promise<boolean>; cancel: () => void } {
    let cancel: () => void = () => {};
    const done = new Promise<boolean>((resolve) => {
      const end = (result: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(result);
      };
      const wake = () => end(true);
      const timer = setTimeout(end, ms, true);
      this.waiters.add(wake);
      cancel = () => end(false);
    });
    return { done, cancel };
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) w();
  }

  private settle(keyId: string, name: string, model: string, outcome: KeyOutcome): void {
    const c = this.cooling.get(name);
    const bare = model === '' ? undefined : this.cooling.get(keyId);
    if (outcome.kind === 'ok') {
      // The trial succeeded: closed for this model, and for the key as a whole if it was its trial.
      if (c && c.trialAt > 0) this.close(name, c);
      if (bare && bare.trialAt > 0) this.close(keyId, bare);
      return;
    }
    if (c) c.trialAt = 0;
    if (bare) bare.trialAt = 0;
  }

  private close(name: string, c: Cooldown): void {
    this.cooling.delete(name);
    this.listener?.closed(name, c.until);
  }

  /**
   * Milliseconds until the first of these keys may be tried for the model: 0 when one may be now,
   * or when one has a trial out (its answer may come any moment).
   */
  nextUsableInMs(keyIds: readonly string[], model: string): number {
    const t = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const id of keyIds) {
      const at = Math.max(
        this.readyAt(this.cooling.get(id), t),
        model === '' ? t : this.readyAt(this.cooling.get(entry(id, model)), t),
      );
      if (at < soonest) soonest = at;
    }
    return Math.max(0, soonest - t);
  }

  /**
   * One key's cooldowns, for the management API: the model each is for (null: every model) and
   * its state. Walks every entry, so it is for the API, not the request path.
   */
  cooldownsOf(keyId: string): KeyCooldown[] {
    const t = this.now();
    this.prune(t);
    const found: KeyCooldown[] = [];
    for (const [name, c] of this.cooling) {
      if (name !== keyId && !name.startsWith(`${keyId}\u0000`)) continue;
      const model = name === keyId ? null : name.slice(keyId.length + 1);
      found.push({ model, state: t < c.until ? 'cooling' : 'half_open', until: c.until });
    }
    return found;
  }

  /** Cooldowns by state, for /health and the metrics (counts only: no key ids). */
  counts(): { cooling: number; halfOpen: number } {
    const t = this.now();
    this.prune(t);
    let cooling = 0;
    let halfOpen = 0;
    for (const c of this.cooling.values()) {
      if (t < c.until) cooling++;
      else halfOpen++;
    }
    return { cooling, halfOpen };
  }

  /** Forgets half-open entries nobody tried within the ceiling (a key disabled or no longer used). */
  private prune(t: number): void {
    for (const [name, c] of this.cooling) {
      if (c.trialAt === 0 && t - c.until >= this.opts.maxMs) this.cooling.delete(name);
    }
  }

  private fail(name: string, hintMs: number | undefined): void {
    const t = this.now();
    this.prune(t);
    const c = this.cooling.get(name) ?? { until: t, failures: 0, trialAt: 0 };
    c.failures++;
    const fallback = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(c.failures - 1, 30));
    // The upstream's own time wins when it gives one (never beyond the ceiling); a cooldown only grows.
    const ms = hintMs === undefined ? fallback : Math.min(this.opts.maxMs, hintMs);
    c.until = Math.max(c.until, t + ms);
    c.trialAt = 0;
    this.cooling.set(name, c);
    this.listener?.cooled(name, c.until, c.failures);
  }

  private open(c: Cooldown | undefined, t: number): boolean {
    if (!c) return true;
    if (t < c.until) return false;
    return c.trialAt === 0 || t - c.trialAt >= this.opts.maxMs;
  }

  /** When the entry may let a request through: its end, or now for a trial out (its answer may come any moment). */
  private readyAt(c: Cooldown | undefined, t: number): number {
    return !c || this.open(c, t) ? t : Math.max(t, c.until);
  }
}

function entry(keyId: string, model: string): string {
  return `${keyId}\u0000${model}`;
}

/**
 * How long a failed response asks to be left alone, in ms: `retry-after-ms`, `retry-after`
 * (seconds or an HTTP date), else, for a 429 only, OpenAI's `x-ratelimit-reset-requests|tokens`
 * (e.g. `1s`, `6m0s`, `250ms`) of the window that is spent (`x-ratelimit-remaining-*: 0`), or the
 * later of the two when neither says it is. Undefined when none says.
 */
export function retryHintMs(
  headers: Record<string, string | string[] | undefined>,
  status: number,
  now: number,
): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const after = headers['retry-after'];
  if (typeof after === 'string' && after !== '') {
    const s = Number(after);
    if (Number.isFinite(s) && s >= 0) return s * 1000;
    const at = Date.parse(after);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  // Every response carries the rate-limit headers; only a 429's say when the refusal ends.
  if (status !== 429) return undefined;
  let spent: number | undefined;
  let later: number | undefined;
  for (const kind of ['requests', 'tokens']) {
    const reset = headers[`x-ratelimit-reset-${kind}`];
    const t = typeof reset === 'string' ? durationMs(reset) : undefined;
    if (t === undefined) continue;
    if (headers[`x-ratelimit-remaining-${kind}`] === '0') spent = Math.max(spent ?? 0, t);
    later = Math.max(later ?? 0, t);
  }
  return spent ?? later;
}

/** OpenAI's reset durations: `1h2m3.5s`, `20ms`, `0s`; undefined when it is not one. */
export function durationMs(v: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let seen = 0;
  for (const m of v.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    seen += m[0].length;
  }
  return seen > 0 && seen === v.length ? total : undefined;
}
