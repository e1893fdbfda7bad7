import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { UpstreamKey } from '../projects/upstream-key.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { Admitted } from './admission.js';
import { chooseKey } from './key-choice.js';
import { type KeyOutcome, retryHintMs } from './key-health.js';
import type { ProxyDeps } from './proxy-deps.js';
import type { ProxyRequest } from './proxy-request.js';
import { backoffMs } from './retry-budget.js';
import { carriesIdempotencyKey, errorReason, notRun, type RetryReason, statusReason } from './retry-policy.js';
import type { UpstreamLeg } from './upstream-leg.js';

/** The exchange (forward.ts), as the failover drives it. */
export interface AttemptOwner {
  /** The attempt with `pr.upstreamKey` failed: its key's cooldown hears it (once per attempt). */
  attemptFailed(outcome: KeyOutcome): void;
  /** Sends the request again, with `pr.upstreamKey` and `admitted.upstream` as they are now. */
  resend(): void;
  /** The client left while a retry waited: the exchange ends (499). */
  clientLeft(): void;
}

/**
 * Retries and failover, as a decorating dispatch handler around the one that relays to the client
 * (usage capture, then the leg). A failed attempt (a 429 or 5xx status, or an error before any
 * response head) that the policy lets be retried never reaches the inner handlers: its body is
 * read and dropped, then the request is sent again, on another key of the project when it has one
 * not yet tried and not cooling down (at once), else, for a one-key project, on the same key after
 * a jittered backoff (never after a 429: the client is better told the upstream's wait). Within
 * UPSTREAM_RETRY_MAX_ATTEMPTS, UPSTREAM_RETRY_TIMEOUT_MS and the global budget. Once the client's
 * head is written nothing is retried: a cut stream stays a cut.
 *
 * Why not undici's own `interceptors.retry` (lib/interceptor/retry.js, lib/handler/retry-handler.js):
 * it retries only idempotent methods (every completion is a POST), always on the same origin and
 * with the same headers (failover changes key, auth header and possibly origin), wants the body
 * replayable by undici, and resumes a cut body with Range requests, which an API response cannot
 * honour. The decorator shape is the same; the decisions are ours.
 */
export class Failover implements Dispatcher.DispatchHandler {
  /** Keys this request was sent with, by id: none is tried twice in a pool (made at its first failure). */
  private tried: Set<string> | undefined;
  /** The current attempt's response is being dropped for a retry. */
  private dropping = false;
  private delayMs = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly leg: UpstreamLeg,
    private readonly pr: ProxyRequest,
    private readonly admitted: Admitted,
    private readonly deps: ProxyDeps,
    private readonly owner: AttemptOwner,
  ) {}

  /**
   * A 5xx or timeout may be retried: the request carries an Idempotency-Key, or its project allows
   * it. Asked only after a failure (every request is built one of these: it stays small).
   */
  private get mayRunTwice(): boolean {
    return carriesIdempotencyKey(this.pr.req.headers) || (this.pr.identity as TokenIdentity).retryServerErrors === true;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.dropping = false;
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    const reason = statusReason(statusCode);
    if (reason !== undefined) {
      const hintMs = retryHintMs(headers, statusCode, Date.now());
      if (this.plan(reason, { kind: 'failed', hintMs }, hintMs)) {
        this.dropping = true;
        this.leg.answered();
        return;
      }
    }
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.dropping) this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.dropping) this.again();
    else this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    // A dropped body that fails changes nothing: the retry was decided at its head.
    if (this.dropping) {
      this.again();
      return;
    }
    if (!this.pr.res.headersSent && !this.pr.clientGone) {
      const reason = errorReason(err);
      // Our own timeout says nothing against the key; a connection that failed cools it.
      const outcome: KeyOutcome = reason === 'timeout' ? NEUTRAL : FAILED;
      if (reason !== undefined && this.plan(reason, outcome, undefined)) {
        this.leg.answered();
        this.again();
        return;
      }
    }
    this.inner.onResponseError?.(controller, err);
  }

  /** The client left: a retry waiting for its time is dropped, and the exchange ends. */
  cancel(): boolean {
    if (this.timer === undefined) return false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.owner.clientLeft();
    return true;
  }

  /**
   * Whether the failed attempt is retried, and if so with which key (now `pr.upstreamKey`) after
   * how long (`delayMs`). The budget is asked after the policy's checks, so a retry they refuse
   * spends nothing (only one refused a slot on another origin does).
   */
  private plan(reason: RetryReason, outcome: KeyOutcome, hintMs: number | undefined): boolean {
    const { pr, deps } = this;
    const { opts } = deps.retries;
    if (pr.clientGone || pr.retries + 1 >= opts.maxAttempts) return false;
    if (!notRun(reason) && !this.mayRunTwice) return false;
    const keys = (pr.identity as TokenIdentity).upstreamKeys;
    const model = this.admitted.facts?.model ?? '';
    const left = opts.timeoutMs - (performance.now() - pr.t0);
    let next: UpstreamKey | undefined;
    let delay = 0;
    if (keys.length > 1) {
      this.tried ??= new Set();
      const tried = this.tried.add((pr.upstreamKey as UpstreamKey).id);
      next = chooseKey(keys, Math.random, (k) => !tried.has(k.id) && deps.keyHealth.usable(k.id, model), deps.keyLoad);
      if (!next || left <= 0) return false;
    } else {
      // One key, nowhere else to go: a 429 is the upstream's "not now", which the client hears.
      if (reason === 'rate_limited') return false;
      next = pr.upstreamKey as UpstreamKey;
      delay = Math.max(backoffMs(pr.retries + 1, opts.backoffMs, opts.backoffMaxMs), hintMs ?? 0);
      if (delay >= left) return false;
    }
    if (!deps.retries.budget.withdraw()) return false;
    // Another origin: a connection slot of its own, free now (the one held is given back), or no retry.
    if (!this.admitted.moveTo(deps.pools.get(next.origin, next.http2))) return false;
    this.owner.attemptFailed(outcome);
    deps.retries.counted(reason);
    if (next !== pr.upstreamKey) deps.keyHealth.taken(next.id, model);
    pr.upstreamKey = next;
    pr.retries++;
    this.delayMs = delay;
    return true;
  }

  /** The next attempt, after the backoff (off this undici callback either way). */
  private again(): void {
    this.dropping = false;
    this.timer = setTimeout(fire, this.delayMs, this);
  }

  /** The backoff is over: the request goes again. */
  resend(): void {
    this.timer = undefined;
    this.owner.resend();
  }
}

function fire(f: Failover): void {
  f.resend();
}

const NEUTRAL: KeyOutcome = { kind: 'neutral' };
const FAILED: KeyOutcome = { kind: 'failed', hintMs: undefined };
