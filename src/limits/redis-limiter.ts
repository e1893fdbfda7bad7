import { type RedisConnection, RedisUnavailable } from '../redis/connection.js';
import {
  type Admission,
  type AdmitResult,
  BUDGET_PERIODS,
  type BudgetUse,
  type Limiter,
  type LimitKind,
  periodOf,
  type RateState,
  type SubjectLimits,
  type SubjectState,
  type Ticket,
} from './limits.js';
import type { SpentLoader } from './memory-limiter.js';
import { LAYOUT_VERSION, LIMITER_SCRIPT } from './redis-scripts.js';

export interface RedisLimiterOptions {
  /** Key namespace; the layout version is appended (`llmp` → `llmp:v3:`). Tests use a fresh one each. */
  prefix?: string;
  /**
   * How long a reservation is held before the sweeper settles it as unfinished (charged its
   * estimate). Longer than the longest request: a settle that comes later only corrects the spend.
   */
  leaseMs?: number;
  /** How long a settled reservation is remembered, so a repeated settle charges nothing. */
  tombstoneMs?: number;
  /** Idle subjects' state expires after this (the store's counts seed it again). */
  subjectTtlMs?: number;
  /** Minimum time between two refreshes of the budget snapshot for the metrics. */
  budgetRefreshMs?: number;
  /** Told of settlements that failed (their reservation is swept after the lease). */
  onError?: (err: Error, what: string) => void;
  /**
   * Reads a subject's persisted request count, fresh (after this instance's pending usage is
   * written). Set: a subject Redis holds no count for (new, idle past its TTL, or Redis lost its
   * data) is seeded with it plus this instance's requests of it in flight, so a cap holds across
   * a Redis that restarted empty. Unset: the admission's own `requestCount` seeds it (a cached value).
   */
  loadCount?: CountLoader;
}

/** Reads a subject's request count from the store (see RedisLimiterOptions.loadCount). */
export type CountLoader = (subject: SubjectLimits) => Promise<number>;

const DAY = 86_400_000;

/**
 * The shared limiter: every instance runs the same script against one Redis, which decides and
 * charges all limits of a token and its project in one atomic step on its own clock (TIME), so N
 * instances together allow exactly what one would.
 *
 * Key layout (docs/scaling.md): `<prefix>:v<layout>:{p:<project id>}:` then `token:<id>`,
 * `project:<id>` (subject hashes), `r:<request id>` (a reservation) and `dl` (the reservations'
 * deadlines, a sorted set). One hash tag per project, token keys included (a token belongs to one
 * project), so the script's keys share one Redis Cluster slot. A token admitted without a project
 * (only in tests) is tagged by itself, `{t:<id>}`.
 *
 * One round trip per admission once budgets are seeded. Two more, once per subject and period:
 * the script answers `seed` when a budget's period has no spend yet, the store is read, and the
 * call repeats with it (HSETNX: the first instance's seed wins). And at a period boundary where
 * this instance's clock and Redis's disagree, the script answers `clock` and the call repeats.
 */
export class RedisLimiter implements Limiter {
  private readonly base: string;
  private readonly leaseMs: number;
  private readonly tombstoneMs: number;
  private readonly subjectTtlMs: number;
  private readonly budgetRefreshMs: number;
  /** The lease, tombstone and subject TTL as the script's arguments (formatted once). */
  private readonly fixedArgs: [string, string, string];
  /** Redis's clock minus ours, from the last reply: names the periods the script checks. */
  private offset = 0;
  private readonly pending = new Set<Promise<unknown>>();
  /** Subjects with a budget seen by this instance (for the metrics snapshot), by subject key. */
  private readonly budgeted = new Map<string, { kind: SubjectLimits['kind']; id: string }>();
  private snapshot: BudgetUse[] = [];
  private refreshedAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  private sweepHook: (() => Promise<boolean>) | undefined;
  /**
   * This instance's requests admitted through Redis and not settled yet, by subject key (only with
   * `loadCount`): they are in no persisted count yet, so a count seed adds them.
   */
  private readonly open = new Map<string, number>();
  /**
   * The day and month periods of the last time asked for (admissions and settlements name them; a
   * day's requests share them: computing them from a Date each time was a visible part of a call's CPU).
   */
  private periods: Periods = { from: 0, to: 0, day: '', month: '', dayP: EMPTY, monthP: EMPTY };

  constructor(
    private readonly redis: RedisConnection,
    private readonly loadSpent: SpentLoader,
    private readonly opts: RedisLimiterOptions = {},
  ) {
    this.base = `${opts.prefix ?? 'llmp'}:v${LAYOUT_VERSION}:`;
    this.leaseMs = opts.leaseMs ?? 15 * 60_000;
    this.tombstoneMs = opts.tombstoneMs ?? 60 * 60_000;
    this.subjectTtlMs = opts.subjectTtlMs ?? 40 * DAY;
    this.budgetRefreshMs = opts.budgetRefreshMs ?? 10_000;
    this.fixedArgs = [String(this.leaseMs), String(this.tombstoneMs), String(this.subjectTtlMs)];
  }

  admit(a: Admission): Promise<AdmitResult> {
    return this.run(a, undefined, 0);
  }

  /**
   * `admittedHere`: this Redis admitted the ticket (the failover limiter also sends the tickets of
   * its fallback, whose Redis call may have landed with the reply lost). Such a ticket whose
   * reservation is gone, and not because the sweeper settled it (younger than the lease), while its
   * subjects' state is younger than its admission, was held by a Redis that lost its data: its
   * actual spend is charged to the subjects' spend instead.
   */
  settle(ticket: Ticket, actualTokens: number, actualCost: number, admittedHere = true): void {
    const tag = this.tagOf(ticket.subjects);
    const keys = [`${tag}r:${ticket.requestId}`, `${tag}dl`];
    for (const s of ticket.subjects) keys.push(`${tag}${s.kind}:${s.id}`);
    // The first settle of the ticket closes it (the failover limiter may send one again).
    if (admittedHere && !ticket.settled) {
      ticket.settled = true;
      if (this.opts.loadCount) this.closeOpen(ticket, tag);
    }
    const charge = admittedHere && Date.now() + this.offset - ticket.admittedAt < this.leaseMs;
    const periods = this.periodsOf(ticket.admittedAt);
    const p = this.redis
      .script<string>(LIMITER_SCRIPT, keys, [
        'settle',
        ticket.requestId,
        String(actualTokens),
        String(actualCost),
        this.fixedArgs[1],
        charge ? '1' : '0',
        periods.day,
        periods.month,
        String(ticket.admittedAt),
      ])
      .catch((err: Error) => this.opts.onError?.(err, 'settle'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /**
   * Tells Redis of a request another limiter admitted while Redis could not answer (the failover
   * limiter's local mode): `count` adds it to the subjects' request counts, `cost` (once it settled)
   * to their spend in the periods of its admission. Idempotent by request id; a request Redis did
   * admit after all (the reply was lost) is left to its own settle. Rejects when Redis cannot answer.
   */
  async replay(ticket: Ticket, count: boolean, cost: number | undefined): Promise<void> {
    const tag = this.tagOf(ticket.subjects);
    const keys = [`${tag}r:${ticket.requestId}`];
    for (const s of ticket.subjects) keys.push(`${tag}${s.kind}:${s.id}`);
    const periods = this.periodsOf(ticket.admittedAt);
    await this.redis.script<string>(LIMITER_SCRIPT, keys, [
      'replay',
      count ? '1' : '0',
      cost === undefined ? '' : String(cost),
      periods.day,
      periods.month,
      String(this.tombstoneMs),
    ]);
  }

  /** Prefix of every key this limiter writes (`<prefix>:v<layout>:`), for the reconciliation job. */
  get keyBase(): string {
    return this.base;
  }

  budgetUse(): BudgetUse[] {
    if (Date.now() - this.refreshedAt >= this.budgetRefreshMs && !this.refreshing) {
      this.refreshing = this.refreshBudgets()
        .catch((err: Error) => this.opts.onError?.(err, 'budget snapshot'))
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    return this.snapshot;
  }

  /** Refreshes the snapshot `budgetUse` answers from (the metrics read it at scrape time). */
  async refreshBudgets(): Promise<void> {
    const now = Date.now() + this.offset;
    const current = new Set(BUDGET_PERIODS.map((p) => periodOf(p, now).key));
    const out: BudgetUse[] = [];
    for (const [key, s] of this.budgeted) {
      const h = await this.redis.send<string[]>(['HGETALL', key]);
      const fields = pairs(h);
      for (const pkey of current) {
        const limit = Number(fields.get(`l|${pkey}`) ?? 0);
        if (!(limit > 0) || !fields.has(`s|${pkey}`)) continue;
        const used = Number(fields.get(`s|${pkey}`)) + Number(fields.get(`r|${pkey}`) ?? 0);
        out.push({ kind: s.kind, id: s.id, used: used / limit });
      }
    }
    this.snapshot = out;
    this.refreshedAt = Date.now();
  }

  async inspect(kind: SubjectLimits['kind'], id: string, projectId?: string): Promise<SubjectState | undefined> {
    const tag = kind === 'project' ? this.tag(id) : projectId ? this.tag(projectId) : `${this.base}{t:${id}}:`;
    const fields = pairs(await this.redis.send<string[]>(['HGETALL', `${tag}${kind}:${id}`]));
    if (fields.size === 0) return undefined;
    const state: SubjectState = { budgets: {} };
    const n = (f: string) => (fields.has(f) ? Number(fields.get(f)) : undefined);
    const set = <K extends 'requests' | 'inFlight' | 'requestsTat' | 'tokensTat'>(k: K, v: number | undefined) => {
      if (v !== undefined) state[k] = v;
    };
    set('requests', n('n'));
    set('inFlight', n('f'));
    set('requestsTat', n('rt'));
    set('tokensTat', n('tt'));
    for (const [f, v] of fields) {
      if (!f.startsWith('s|')) continue;
      const pkey = f.slice(2);
      state.budgets[pkey] = { spentNanoUsd: Number(v), reservedNanoUsd: n(`r|${pkey}`) ?? 0 };
    }
    return state;
  }

  /**
   * Settles every expired reservation as an unfinished request charged its estimate (each
   * admission also sweeps its own project's first). Run periodically by one instance: `setSweepLease`
   * names the lease that decides which (until then every instance may run it; it is idempotent).
   * Returns how many were settled.
   */
  async sweep(): Promise<number> {
    if (this.sweepHook && !(await this.sweepHook())) return 0;
    let swept = 0;
    for (const dl of await this.redis.scan(`${this.base}{*}:dl`, 'zset')) {
      const prefix = dl.slice(0, -2);
      for (;;) {
        const n = await this.redis.script<number>(
          LIMITER_SCRIPT,
          [dl],
          ['sweep', prefix, '100', String(this.tombstoneMs)],
        );
        swept += n;
        if (n < 100) break;
      }
    }
    return swept;
  }

  /** The hook for the cluster lease of background jobs: `sweep` runs only while it resolves true. */
  setSweepLease(held: () => Promise<boolean>): void {
    this.sweepHook = held;
  }

  /** Waits for settlements in flight (the connection is the caller's to close). */
  async close(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.refreshing;
  }

  private async run(a: Admission, seeds: Seeds | undefined, attempt: number): Promise<AdmitResult> {
    const tag = this.tagOf(a.subjects);
    const now = Date.now() + this.offset;
    const { dayP: day, monthP: month } = this.periodsOf(now);
    const keys = [`${tag}r:${a.requestId}`, `${tag}dl`];
    const args = [
      'admit',
      a.requestId,
      tag,
      String(a.estimatedTokens),
      String(a.estimatedCostNanoUsd),
      this.fixedArgs[0],
      this.fixedArgs[1],
      this.fixedArgs[2],
      day.key,
      String(day.start),
      String(day.end),
      month.key,
      String(month.start),
      String(month.end),
      String(a.subjects.length),
    ];
    a.subjects.forEach((s, i) => {
      keys.push(`${tag}${s.kind}:${s.id}`);
      const seed = seeds?.spent.get(i);
      const count = this.opts.loadCount ? seeds?.count.get(i) : undefined;
      args.push(
        opt(s.maxRequests),
        String(s.requestCount),
        opt(s.requestsPerMinute),
        opt(s.maxConcurrent),
        opt(s.tokensPerMinute),
        opt(s.budgetNanoUsd),
        s.budgetPeriod,
        seed === undefined ? '' : String(seed),
        this.opts.loadCount ? (count === undefined ? '' : String(count)) : '-',
      );
    });
    // Integral numbers come back as integers, the rest as strings ('' for none).
    const reply = await this.redis.script<Array<string | number>>(LIMITER_SCRIPT, keys, args);
    const redisNow = Number(reply[1]);
    this.offset = redisNow - Date.now();
    if (reply[0] === 'ok') {
      this.noteBudgets(a.subjects, tag);
      if (this.opts.loadCount) {
        for (const s of a.subjects) {
          const key = `${tag}${s.kind}:${s.id}`;
          this.open.set(key, (this.open.get(key) ?? 0) + 1);
        }
      }
      return {
        ok: true,
        rate: rateOf(reply),
        ticket: {
          requestId: a.requestId,
          subjects: a.subjects,
          estimatedTokens: a.estimatedTokens,
          estimatedCostNanoUsd: a.estimatedCostNanoUsd,
          periods: a.subjects.map((s) => this.periodKey(s.budgetPeriod, redisNow)),
          admittedAt: redisNow,
          concurrent: Number(reply[8]),
          settled: false,
        },
      };
    }
    if (reply[0] === 'no') {
      const subject = a.subjects[Number(reply[9]) - 1] as SubjectLimits;
      const retry = reply[12] === '' ? undefined : Number(reply[12]);
      const reset = reply[13] === '' ? undefined : Number(reply[13]);
      return {
        ok: false,
        rate: rateOf(reply),
        refusal: {
          kind: reply[8] as LimitKind,
          subject,
          limit: Number(reply[10]),
          remaining: Number(reply[11]),
          ...(retry === undefined ? {} : { retryAfterMs: retry }),
          ...(reset === undefined ? {} : { resetMs: reset }),
        },
      };
    }
    if (attempt >= 3) throw new RedisUnavailable(`limiter script kept answering ${reply[0]}`);
    if (reply[0] === 'clock') return this.run(a, seeds, attempt + 1);
    // 'seed': 'b<i>', the spend of subject i's current period, and 'n<i>', its request count, read
    // from the store.
    const loaded: Seeds = { spent: new Map(seeds?.spent), count: new Map(seeds?.count) };
    await Promise.all(
      reply.slice(2).map(async (entry) => {
        const what = String(entry);
        const i = Number(what.slice(1)) - 1;
        const s = a.subjects[i] as SubjectLimits;
        if (what[0] === 'b') {
          loaded.spent.set(i, await this.loadSpent(s, periodOf(s.budgetPeriod, redisNow).start));
          return;
        }
        // Read before the store: a request settling meanwhile is then counted twice (a seed too
        // high by one), never missed.
        const mine = this.open.get(`${tag}${s.kind}:${s.id}`) ?? 0;
        const stored = await (this.opts.loadCount as CountLoader)(s);
        loaded.count.set(i, stored + mine);
      }),
    );
    return this.run(a, loaded, attempt + 1);
  }

  private closeOpen(ticket: Ticket, tag: string): void {
    for (const s of ticket.subjects) {
      const key = `${tag}${s.kind}:${s.id}`;
      const n = (this.open.get(key) ?? 1) - 1;
      if (n <= 0) this.open.delete(key);
      else this.open.set(key, n);
    }
  }

  /** The day and month periods of a time (remembered for the day; a month starts with a day). */
  private periodsOf(at: number): Periods {
    const k = this.periods;
    if (at >= k.from && at < k.to) return k;
    const day = periodOf('day', at);
    const month = periodOf('month', at);
    this.periods = { from: day.start, to: day.end as number, day: day.key, month: month.key, dayP: day, monthP: month };
    return this.periods;
  }

  private periodKey(period: SubjectLimits['budgetPeriod'], at: number): string {
    if (period === 'total') return 'total';
    const p = this.periodsOf(at);
    return period === 'day' ? p.day : p.month;
  }

  private noteBudgets(subjects: SubjectLimits[], tag: string): void {
    for (const s of subjects) {
      if (s.budgetNanoUsd === null) continue;
      const key = `${tag}${s.kind}:${s.id}`;
      if (!this.budgeted.has(key)) this.budgeted.set(key, { kind: s.kind, id: s.id });
    }
  }

  private tag(projectId: string): string {
    return `${this.base}{p:${projectId}}:`;
  }

  /** The key prefix of a request's subjects: its project's hash tag. */
  private tagOf(subjects: SubjectLimits[]): string {
    const project = subjects.find((s) => s.kind === 'project');
    if (project) return this.tag(project.id);
    return `${this.base}{t:${(subjects[0] as SubjectLimits).id}}:`;
  }
}

type Period = ReturnType<typeof periodOf>;
/** The day and month periods holding the times in [from, to), and their keys. */
interface Periods {
  from: number;
  to: number;
  day: string;
  month: string;
  dayP: Period;
  monthP: Period;
}
const EMPTY: Period = { key: '', start: 0, end: 0 };

/** Seeds read from the store for a repeated admission, by subject index. */
interface Seeds {
  spent: Map<number, number>;
  count: Map<number, number>;
}

const opt = (v: number | null) => (v === null ? '' : String(v));

function pairs(flat: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i] as string, flat[i + 1] as string);
  return m;
}

/** The script's six rate fields (from index 2) as the headers' state; absent ones are ''. */
function rateOf(reply: Array<string | number>): RateState {
  const rate: RateState = {};
  const names = [
    'limitRequests',
    'remainingRequests',
    'resetRequestsMs',
    'limitTokens',
    'remainingTokens',
    'resetTokensMs',
  ] as const;
  names.forEach((name, i) => {
    const v = reply[2 + i];
    if (v !== undefined && v !== '') rate[name] = Number(v);
  });
  return rate;
}
