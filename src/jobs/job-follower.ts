import type { Limiter, SubjectLimits } from '../limits/limits.js';
import type { Lease } from '../maintenance/lease.js';
import type { Logger } from '../observability/logger.js';
import type { UpstreamKey } from '../projects/upstream-key.js';
import { emptyUsage, readBody } from '../proxy/usage-extract.js';
import type { Clock } from '../shared/clock.js';
import type { TrackedJobRow } from '../store/schema.js';
import { TRACKED_JOB_STATES, type TrackedJobState, type TrackedJobsRepo } from '../store/tracked-jobs-repo.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { PricingTable } from '../usage/pricing.js';
import type { UsageRecord } from '../usage/usage-writer.js';
import { isFinished, type JobKind, type JobSighting, type JobStart, type JobUsage } from './job-kinds.js';
import { batchLineRecord, responseRecord } from './job-records.js';
import { fileLines, getJson, UpstreamAnswer } from './job-upstream.js';

export interface JobFollowerOptions {
  pollMinMs: number;
  pollMaxMs: number;
  maxInFlight: number;
}

export interface JobFollowerDeps {
  repo: TrackedJobsRepo;
  /** The token's identity whatever its state (Authenticator.identityById); undefined once it or its project is gone. */
  identityOf(tokenId: string): Promise<TokenIdentity | undefined>;
  limiter: Limiter;
  pricing: PricingTable;
  /** Hands a record to the usage writer (and whatever else takes records). */
  record(rec: UsageRecord): void;
  /** Writes what the usage writer holds; resolves whether the store now has all of it. */
  flushed(): Promise<boolean>;
  /** One follower per cluster polls: the holder of this lease. */
  lease: Lease;
  clock: Clock;
  logger: Logger;
}

/** Past its completion window, a job is polled for this much longer before it is given up. */
export const DEADLINE_MARGIN_MS = 3_600_000;
/** A batch's window when it names none we can read; background responses get this too. */
const DEFAULT_WINDOW_MS = 86_400_000;
/** A recording left unfinished this long (its recorder died) is taken over. */
const STALLED_AFTER_MS = 300_000;

/**
 * Follows batches and background responses created through the proxy until they finish, then
 * records their usage once, against the token that created them.
 *
 * - The proxy tells it of each job it sees created (`created`: one insert, off the request path)
 *   and of each retrieval that shows a finished one (`seen`). Everything else is in the database
 *   (tracked_jobs), so a restart or another instance carries on where this one was.
 * - The holder of the `jobs` lease polls due jobs with their project's key, at most `maxInFlight`
 *   at once, backing off from `pollMinMs` to `pollMaxMs`, until the completion window plus an hour.
 * - Recording starts with `claim`, one conditional update: of a poll and a retrieval (on any
 *   instance) exactly one records. The records' ids and time derive from the job and its
 *   `recorded_at` (job-ids.ts), so a recording done again after a failure or a crash writes the
 *   same records, which the store skips; the limits are charged once, after the last line.
 */
export class JobFollower {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  private ticking = false;
  private stopped = false;
  private countsAt = 0;
  /** Jobs by state, as last read (refreshed at most every 10 s by each instance's tick). */
  counts: Record<TrackedJobState, number> = { pending: 0, recording: 0, done: 0, dropped: 0 };
  /** Polls of the upstream by outcome: running, finished, failed. */
  readonly polls = { running: 0, finished: 0, failed: 0 };
  /**
   * Each record of a job as it is recorded and charged (the metrics' tokens and cost). A recording
   * taken over after its recorder died is not reported again: the dead process had counted it.
   */
  onRecorded: ((rec: UsageRecord) => void) | undefined;

  constructor(
    private readonly deps: JobFollowerDeps,
    private readonly opts: JobFollowerOptions,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.deps.lease.start();
    this.timer = setInterval(() => void this.tick(), Math.min(this.opts.pollMinMs, 5_000));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.deps.lease.stop();
  }

  /** A job answered through the proxy (a batch created, a background response started): remembered. */
  created(job: JobStart): void {
    const now = this.deps.clock();
    const window = job.kind === 'batch' ? windowMs(job.completionWindow) : DEFAULT_WINDOW_MS;
    void this.deps.repo
      .insert({
        id: job.id,
        kind: job.kind,
        token_id: job.tokenId,
        project_id: job.projectId,
        upstream_key_id: job.upstreamKeyId,
        endpoint: job.endpoint,
        state: 'pending',
        upstream_status: job.status,
        next_poll_at: now + this.opts.pollMinMs,
        deadline_at: now + window + DEADLINE_MARGIN_MS,
        created_at: now,
        updated_at: now,
      })
      .then(() => {
        if (isFinished(job.kind, job.status)) this.seen(job);
      })
      .catch((err: unknown) => this.failed(job.id, 'could not remember a job', err));
  }

  /**
   * A retrieval through the proxy showed a job finished. A background response is recorded from
   * what the retrieval carried (if no one has yet); a batch is polled at the next pass.
   */
  seen(s: JobSighting): void {
    if (!isFinished(s.kind, s.status)) return;
    const now = this.deps.clock();
    const work =
      s.kind === 'batch' ? this.deps.repo.pollNow(s.id, now) : this.recordSeenResponse(s.id, s.status, s.usage, now);
    void work.catch((err: unknown) => this.failed(s.id, 'could not follow up a finished job', err));
  }

  private async recordSeenResponse(id: string, status: string, usage: JobUsage | undefined, now: number) {
    const job = await this.deps.repo.get(id);
    if (job?.state !== 'pending' || this.inFlight.has(id)) return;
    const identity = await this.deps.identityOf(job.token_id);
    if (!identity) return this.deps.repo.drop(id, 'token_or_project_deleted', status, now);
    if (!(await this.deps.repo.claim(id, status, now))) return;
    this.inFlight.add(id);
    try {
      await this.recordResponse(await this.reread(id), identity, usage, true);
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** One pass: due jobs polled, stalled recordings taken over; only by the lease holder. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = this.deps.clock();
      if (now - this.countsAt >= 10_000) {
        this.countsAt = now;
        this.counts = await this.deps.repo.countByState();
      }
      if (!this.deps.lease.held) return;
      const room = this.opts.maxInFlight - this.inFlight.size;
      if (room <= 0) return;
      const due = (await this.deps.repo.due(now, room)).filter((j) => !this.inFlight.has(j.id));
      const stalled = due.length < room ? await this.deps.repo.stalled(now - STALLED_AFTER_MS, room - due.length) : [];
      for (const job of due) this.run(job.id, () => this.poll(job));
      for (const job of stalled) this.run(job.id, () => this.retake(job));
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'job follower pass failed; will retry');
    } finally {
      this.ticking = false;
    }
  }

  /** Runs one job's work in the background, counted against maxInFlight until it ends. */
  private run(id: string, work: () => Promise<void>): void {
    this.inFlight.add(id);
    work()
      .catch((err: unknown) => this.failed(id, 'job follow-up failed', err))
      .finally(() => this.inFlight.delete(id));
  }

  /** Polls one due job: still running (next poll later), finished (claimed and recorded), or gone. */
  async poll(job: TrackedJobRow): Promise<void> {
    const { repo, clock } = this.deps;
    const identity = await this.deps.identityOf(job.token_id);
    if (!identity) return repo.drop(job.id, 'token_or_project_deleted', undefined, clock());
    const key = keyOf(identity, job.upstream_key_id);
    if (!key) return this.later(job, job.upstream_status, 'the project has no enabled upstream key');
    let obj: Record<string, unknown>;
    try {
      obj = await getJson(key, `/v1/${job.kind === 'batch' ? 'batches' : 'responses'}/${encodeURIComponent(job.id)}`);
    } catch (err) {
      this.polls.failed++;
      if (err instanceof UpstreamAnswer && err.status === 404) {
        return repo.drop(job.id, 'not_found_upstream', undefined, clock());
      }
      return this.later(job, job.upstream_status, (err as Error).message);
    }
    const status = typeof obj.status === 'string' ? obj.status : 'unknown';
    if (!isFinished(job.kind as JobKind, status)) {
      this.polls.running++;
      return this.later(job, status, null);
    }
    this.polls.finished++;
    if (!(await repo.claim(job.id, status, clock()))) return;
    const claimed = await this.reread(job.id);
    try {
      if (job.kind === 'batch') return await this.recordBatch(claimed, identity, key, obj, true);
      const usage = emptyUsage();
      readBody(obj, usage);
      return await this.recordResponse(claimed, identity, usage, true);
    } catch (err) {
      // Before its limits were charged: tried again later, from the start, with the same record keys.
      const now = clock();
      await repo.release(job.id, now + this.opts.pollMinMs, (err as Error).message, now);
      throw err;
    }
  }

  /** A recording whose recorder stopped midway: done again (the store skips what was written), limits not charged again. */
  private async retake(job: TrackedJobRow): Promise<void> {
    const { repo, clock } = this.deps;
    if (!(await repo.retake(job.id, Number(job.updated_at), clock()))) return;
    const identity = await this.deps.identityOf(job.token_id);
    if (!identity) return repo.drop(job.id, 'token_or_project_deleted', undefined, clock());
    const key = keyOf(identity, job.upstream_key_id);
    if (!key) return;
    const obj = await getJson(
      key,
      `/v1/${job.kind === 'batch' ? 'batches' : 'responses'}/${encodeURIComponent(job.id)}`,
    );
    if (job.kind === 'batch') return this.recordBatch(job, identity, key, obj, false);
    const usage = emptyUsage();
    readBody(obj, usage);
    return this.recordResponse(job, identity, usage, false);
  }

  /** Not finished: polled again after the backoff, or given up past the deadline. */
  private async later(job: TrackedJobRow, status: string, error: string | null): Promise<void> {
    const now = this.deps.clock();
    const deadline = Number(job.deadline_at);
    if (now >= deadline) return this.deps.repo.drop(job.id, 'deadline_passed', status, now);
    const delay = Math.min(this.opts.pollMaxMs, this.opts.pollMinMs * 2 ** Math.min(job.attempts + 1, 30));
    await this.deps.repo.reschedule(job.id, {
      nextPollAt: Math.min(deadline, now + delay),
      upstreamStatus: status,
      error,
      now,
    });
  }

  /** A finished batch: one record per line of its output and error files, then its limits charged once. */
  private async recordBatch(
    job: TrackedJobRow,
    identity: TokenIdentity,
    key: UpstreamKey,
    batch: Record<string, unknown>,
    charge: boolean,
  ): Promise<void> {
    const at = Number(job.recorded_at);
    const totals = { records: 0, tokens: 0, cost: 0 };
    let index = 0;
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (typeof fileId !== 'string' || fileId === '') continue;
      for await (const line of fileLines(key, fileId)) {
        const rec = batchLineRecord(job, key.id, line, index++, at, this.deps.pricing);
        if (!rec) continue;
        this.add(rec, totals, charge);
      }
    }
    await this.finish(job, identity, totals, charge);
  }

  private async recordResponse(
    job: TrackedJobRow,
    identity: TokenIdentity,
    usage: JobUsage | undefined,
    charge: boolean,
  ): Promise<void> {
    const totals = { records: 0, tokens: 0, cost: 0 };
    const rec = usage ? responseRecord(job, usage, Number(job.recorded_at), this.deps.pricing) : undefined;
    if (rec) this.add(rec, totals, charge);
    await this.finish(job, identity, totals, charge);
  }

  private add(rec: UsageRecord, totals: { records: number; tokens: number; cost: number }, first: boolean): void {
    this.deps.record(rec);
    if (first) this.onRecorded?.(rec);
    totals.records++;
    totals.tokens += rec.totalTokens ?? 0;
    totals.cost += rec.costNanoUsd ?? 0;
  }

  /** Limits charged (once), the records confirmed by the store, then the job marked done. */
  private async finish(
    job: TrackedJobRow,
    identity: TokenIdentity,
    totals: { records: number; tokens: number; cost: number },
    charge: boolean,
  ): Promise<void> {
    if (charge && totals.records > 0) await this.charge(job, identity, totals.tokens, totals.cost);
    // Not done until the store has the records: a crash before that leaves the job `recording`, taken over later.
    if (!(await this.deps.flushed())) return;
    await this.deps.repo.done(job.id, totals.records, totals.cost, this.deps.clock());
    this.deps.logger.info(
      { job_id: job.id, kind: job.kind, token_id: job.token_id, records: totals.records, cost_nano_usd: totals.cost },
      'job usage recorded',
    );
  }

  /**
   * The job's use charged to its token's and project's TPM and budgets, as one settled admission.
   * It was spent already, so nothing may refuse it: caps, rates and concurrency are left out, and
   * when a budget or TPM is already used up (the limiter refuses even nothing) the spend is added
   * without checking them; the records carry it into the rollups that seed budgets either way.
   */
  private async charge(job: TrackedJobRow, identity: TokenIdentity, tokens: number, cost: number): Promise<void> {
    const requestId = `job:${job.id}`;
    const loose = (s: SubjectLimits, strict: boolean): SubjectLimits => ({
      ...s,
      maxRequests: null,
      requestsPerMinute: null,
      maxConcurrent: null,
      tokensPerMinute: strict ? s.tokensPerMinute : null,
      budgetNanoUsd: strict ? s.budgetNanoUsd : null,
    });
    for (const strict of [true, false]) {
      const subjects = identity.limits.map((s) => loose(s, strict));
      const d = await this.deps.limiter.admit({ requestId, subjects, estimatedTokens: 0, estimatedCostNanoUsd: 0 });
      if (d.ok) {
        this.deps.limiter.settle(d.ticket, tokens, cost);
        return;
      }
    }
  }

  private async reread(id: string): Promise<TrackedJobRow> {
    const row = await this.deps.repo.get(id);
    if (!row) throw new Error(`tracked job ${id} vanished`);
    return row;
  }

  private failed(id: string, what: string, err: unknown): void {
    this.deps.logger.warn({ job_id: id, err: (err as Error)?.message }, what);
  }

  /** Every state, for the metrics' labels. */
  static readonly STATES = TRACKED_JOB_STATES;
}

/** The key the job went out with, else the project's first enabled key (the same account's). */
function keyOf(identity: TokenIdentity, keyId: string | null): UpstreamKey | undefined {
  return identity.upstreamKeys.find((k) => k.id === keyId) ?? identity.upstreamKeys[0];
}

/** `24h` → ms; anything unreadable gets a day. */
function windowMs(window: string | undefined): number {
  const m = /^(\d{1,4})h$/.exec(window ?? '');
  return m ? Number(m[1]) * 3_600_000 : DEFAULT_WINDOW_MS;
}
