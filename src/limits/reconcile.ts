import type { Logger } from '../observability/logger.js';
import type { RedisConnection } from '../redis/connection.js';
import type { SweepLease } from './failover-limiter.js';
import { periodOf, type SubjectLimits } from './limits.js';
import type { LimitTotals } from './reconcile-store.js';

/** One subject whose Redis counters disagree with the database (Redis minus database). */
export interface SubjectDrift {
  kind: SubjectLimits['kind'];
  id: string;
  /** Requests counted in Redis, less its open reservations, minus the persisted request_count. */
  requests: number;
  /** Spend (nano-dollars, reservations not included) per period key held, minus the rollups' sum. */
  budgets: Record<string, number>;
}

/** What one reconciliation pass found. */
export interface DriftReport {
  /** When it ran (Redis's clock, epoch ms). */
  at: number;
  /** Subjects with state in Redis that were compared. */
  subjects: number;
  /** The same, by kind. */
  subjectsByKind: Record<SubjectLimits['kind'], number>;
  /** Sums of the absolute drifts over all subjects. */
  drift: { requests: number; budgetNanoUsd: number };
  /** Subjects drifting, per kind of counter. */
  drifting: { requests: number; budgetNanoUsd: number };
  /** Counters raised to the database's total (REDIS_RECONCILE_CORRECT). */
  corrected: number;
  /** Passes run by this instance so far, this one included, and the counters they raised. */
  runs: number;
  correctedTotal: number;
  /** The drifting subjects (up to MAX_DETAILS). */
  subjectsDrifting: SubjectDrift[];
}

export interface ReconcilerOptions {
  /** Key prefix of the Redis limiter's layout (RedisLimiter.keyBase). */
  base: string;
  intervalMs: number;
  /** Raise counters that are below the database's totals (never lower any). */
  correct: boolean;
  logger: Logger;
  /** The cluster lease: passes run in the instance holding it (without one, in every instance). */
  lease?: SweepLease | undefined;
  /**
   * The reservations' lease (RedisLimiter leaseMs): a day or month this young is reported but not
   * corrected, as requests admitted in the last period and finished in this one are counted in the
   * period of their admission by Redis and of their end by the rollups.
   */
  reservationLeaseMs?: number;
}

/** Subjects listed in a report and in the log line. */
const MAX_DETAILS = 1000;
const LOGGED = 5;
/** Redis calls in flight at once during a pass. */
const SLICE = 100;

/**
 * Adds `ARGV[2]` to field `ARGV[1]` of a subject that still holds it (a Redis that lost the subject
 * meanwhile seeds it from the store again instead). Adding the deficit rather than setting the total
 * keeps what was admitted between the read and this write.
 */
const RAISE_SCRIPT = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v == false then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], tonumber(v) + tonumber(ARGV[2]))
return 1
`;

interface Subject {
  key: string;
  /** The hash tag's key prefix (`<base>{p:<project>}:`): its reservations are `<tag>r:<id>`. */
  tag: string;
  kind: SubjectLimits['kind'];
  id: string;
}

/**
 * The reconciliation job: compares each subject's Redis counters with the database's totals and
 * exports the drift (metrics, a log line), every `intervalMs`, in the one instance holding its lease.
 * A request counts in Redis from its admission and in the database once its usage record is
 * written, so the job subtracts the open reservations, reads the database before Redis (a request
 * written in between is then missing from neither), and a pass under traffic still sees the
 * requests settled but not yet written (up to USAGE_FLUSH_INTERVAL_MS of them) as a small positive
 * drift that the next pass no longer finds. A drift that stays is real: counters lost with a Redis
 * that restarted empty while requests were in flight elsewhere, or written by hand.
 *
 * Correcting raises a counter that is below the database (Redis allows more than has happened)
 * by the difference, which is safe with requests in flight: the database's total read first never
 * exceeds the truth, and adding (not setting) keeps admissions made meanwhile. A counter above the
 * database is never lowered: it may be ahead rightly (usage not yet written, a writer retrying
 * against a database that is down), and lowering it would let requests past their limits.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private last: DriftReport | undefined;
  private runs = 0;
  private corrected = 0;
  private readonly reservationLeaseMs: number;

  constructor(
    private readonly redis: RedisConnection,
    private readonly totals: LimitTotals,
    private readonly opts: ReconcilerOptions,
  ) {
    this.reservationLeaseMs = opts.reservationLeaseMs ?? 15 * 60_000;
  }

  /** The last pass's report in this instance (undefined until one ran here: the metrics then show none). */
  report(): DriftReport | undefined {
    return this.last;
  }

  /** Runs a pass every `intervalMs` while this instance holds the lease. */
  start(): void {
    if (this.timer || this.opts.intervalMs <= 0) return;
    this.opts.lease?.start();
    this.timer = setInterval(() => {
      if (this.running || (this.opts.lease && !this.opts.lease.held)) return;
      this.running = this.run()
        .catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'limiter reconciliation failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.opts.lease?.stop();
  }

  /** One pass: compares every subject Redis holds, exports and logs the drift, corrects if set. */
  async run(): Promise<DriftReport> {
    const [sec, usec] = await this.redis.send<[string, string]>(['TIME']);
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const day = periodOf('day', now);
    const month = periodOf('month', now);
    const subjects = await this.subjects();

    // The database first: a request written after this read is still open or settled in Redis below.
    const totals = {
      token: await this.dbTotals('token', subjects, day.start, month.start),
      project: await this.dbTotals('project', subjects, day.start, month.start),
    };

    const open = await this.openReservations(subjects);
    // Settling is sent after the response, the usage record written in a batch: either may come
    // first. An open reservation whose record is written is counted by the database already, and its
    // cost is what its settle will add to Redis's spend.
    const written = await this.totals.writtenCosts([...new Set([...open.values()].flat().map((r) => r.id))]);
    const report: DriftReport = {
      at: now,
      subjects: 0,
      subjectsByKind: { token: 0, project: 0 },
      drift: { requests: 0, budgetNanoUsd: 0 },
      drifting: { requests: 0, budgetNanoUsd: 0 },
      corrected: 0,
      runs: 0,
      correctedTotal: 0,
      subjectsDrifting: [],
    };
    const periods: Array<[string, number, keyof DbTotals['spent']]> = [
      ['total', 0, 'total'],
      [day.key, day.start, 'day'],
      [month.key, month.start, 'month'],
    ];
    await slices(subjects, async (s) => {
      const t = totals[s.kind];
      const count = t.counts.get(s.id);
      // A subject deleted from the database: nothing to compare with.
      if (count === undefined) return;
      const f = await this.redis.send<Array<string | null>>([
        'HMGET',
        s.key,
        'n',
        ...periods.map(([key]) => `s|${key}`),
      ]);
      report.subjects++;
      report.subjectsByKind[s.kind]++;
      const d: SubjectDrift = { kind: s.kind, id: s.id, requests: 0, budgets: {} };
      const raises: Array<[string, number]> = [];
      let inFlight = 0;
      const settling = new Map<string, number>();
      for (const r of open.get(s.key) ?? []) {
        const cost = written.get(r.id);
        if (cost === undefined) {
          inFlight++;
          continue;
        }
        for (const pkey of ['total', r.day, r.month]) settling.set(pkey, (settling.get(pkey) ?? 0) + cost);
      }
      if (f[0] !== null && f[0] !== undefined) {
        d.requests = Number(f[0]) - inFlight - count;
        if (d.requests < 0) raises.push(['n', -d.requests]);
      }
      periods.forEach(([pkey, start, which], j) => {
        const v = f[1 + j];
        if (v === null || v === undefined) return;
        const redisSpent = Number(v) + (settling.get(pkey) ?? 0);
        const diff = Math.round(redisSpent - (t.spent[which].get(s.id) ?? 0));
        if (diff === 0) return;
        d.budgets[pkey] = diff;
        // A young day or month is reported only (see reservationLeaseMs).
        if (diff < 0 && (which === 'total' || now - start >= this.reservationLeaseMs))
          raises.push([`s|${pkey}`, -diff]);
      });
      const budgetDrift = Object.values(d.budgets).reduce((sum, x) => sum + Math.abs(x), 0);
      if (d.requests === 0 && budgetDrift === 0) return;
      report.drift.requests += Math.abs(d.requests);
      report.drift.budgetNanoUsd += budgetDrift;
      if (d.requests !== 0) report.drifting.requests++;
      if (budgetDrift !== 0) report.drifting.budgetNanoUsd++;
      if (report.subjectsDrifting.length < MAX_DETAILS) report.subjectsDrifting.push(d);
      if (!this.opts.correct) return;
      for (const [field, by] of raises) {
        report.corrected += await this.redis.script<number>(RAISE_SCRIPT, [s.key], [field, String(by)]);
      }
    });
    this.runs++;
    this.corrected += report.corrected;
    report.runs = this.runs;
    report.correctedTotal = this.corrected;
    this.last = report;
    if (report.subjectsDrifting.length > 0) {
      this.opts.logger.warn(
        {
          subjects: report.subjects,
          drifting_requests: report.drifting.requests,
          drifting_budgets: report.drifting.budgetNanoUsd,
          drift_requests: report.drift.requests,
          drift_budget_nano_usd: report.drift.budgetNanoUsd,
          corrected: report.corrected,
          examples: report.subjectsDrifting.slice(0, LOGGED),
        },
        'limiter counters in Redis differ from the database',
      );
    }
    return report;
  }

  /** Every subject hash of the layout (SCAN: in slices, not blocking Redis). */
  private async subjects(): Promise<Subject[]> {
    const out: Subject[] = [];
    for (const kind of ['token', 'project'] as const) {
      for (const key of await this.redis.scan(`${globEscape(this.opts.base)}{*}:${kind}:*`, 'hash')) {
        const close = key.indexOf('}:', this.opts.base.length);
        if (close < 0 || !key.startsWith(`${kind}:`, close + 2)) continue;
        const tag = key.slice(0, close + 2);
        out.push({ key, tag, kind, id: key.slice(close + 2 + kind.length + 1) });
      }
    }
    return out;
  }

  private async dbTotals(
    kind: SubjectLimits['kind'],
    subjects: Subject[],
    dayStart: number,
    monthStart: number,
  ): Promise<DbTotals> {
    const ids = [...new Set(subjects.filter((s) => s.kind === kind).map((s) => s.id))];
    return {
      counts: await this.totals.requestCounts(kind, ids),
      spent: {
        total: await this.totals.spentSince(kind, ids, 0),
        day: await this.totals.spentSince(kind, ids, dayStart),
        month: await this.totals.spentSince(kind, ids, monthStart),
      },
    };
  }

  /** Open reservations (admitted, not settled or swept) per subject key. */
  private async openReservations(subjects: Subject[]): Promise<Map<string, OpenReservation[]>> {
    const open = new Map<string, OpenReservation[]>();
    const tags = [...new Set(subjects.map((s) => s.tag))];
    await slices(tags, async (tag) => {
      const ids = await this.redis.send<string[]>(['ZRANGE', `${tag}dl`, '0', '-1']);
      await slices(ids, async (id) => {
        const h = await this.redis.send<string[]>(['HGETALL', `${tag}r:${id}`]);
        const fields = new Map<string, string>();
        for (let i = 0; i + 1 < h.length; i += 2) fields.set(h[i] as string, h[i + 1] as string);
        if (fields.get('st') !== 'open') return;
        // d: 'at|et|ec|dk|mk|…' (redis-scripts.ts): the periods its settle charges.
        const d = (fields.get('d') ?? '').split('|');
        const r: OpenReservation = { id, day: d[3] ?? '', month: d[4] ?? '' };
        for (const [f, key] of fields) {
          if (!/^k\d+$/.test(f)) continue;
          const list = open.get(key);
          if (list) list.push(r);
          else open.set(key, [r]);
        }
      });
    });
    return open;
  }
}

/** A reservation still open in Redis, and the day and month its settle will charge. */
interface OpenReservation {
  id: string;
  day: string;
  month: string;
}

interface DbTotals {
  counts: Map<string, number>;
  spent: { total: Map<string, number>; day: Map<string, number>; month: Map<string, number> };
}

/** Runs `fn` over `items`, SLICE at a time (Redis calls pipelined, not one round trip after another). */
async function slices<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += SLICE) await Promise.all(items.slice(i, i + SLICE).map(fn));
}

/** A literal for a SCAN MATCH pattern. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
