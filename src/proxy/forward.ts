import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { AppError, errors, fromUnexpected } from '../errors.js';
import type { UpstreamKey } from '../projects/upstream-key.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { UsageAdmission } from '../usage/usage-writer.js';
import { account, type Replayed } from './accounting.js';
import { Admitted, admit } from './admission.js';
import type { CacheEntry } from './cache/cache-store.js';
import type { CacheTurn } from './cache/response-cache.js';
import { type AttemptOwner, Failover } from './failover.js';
import { presentedToken, upstreamRequestHeaders } from './headers.js';
import { IdempotentReplay, releaseUnsent, replayIdempotent, settleIdempotency } from './idempotent-request.js';
import { withIncludeUsage } from './include-usage.js';
import type { KeyOutcome } from './key-health.js';
import type { ProxyDeps } from './proxy-deps.js';
import { ProxyRequest } from './proxy-request.js';
import { replay } from './replay.js';
import { discardBody, refuse, sendError } from './reply.js';
import { checkRequestLine } from './request-line.js';
import { ResponseRecorder } from './response-recorder.js';
import { STREAMS_WITH_FINAL_EVENT } from './stream-cut.js';
import { StreamedUpload } from './upload.js';
import { type LegOwner, UpstreamLeg } from './upstream-leg.js';
import { UsageCapture } from './usage-capture.js';

/**
 * The hot path, top to bottom: request line → token → admission (allowlists, body, slot,
 * limits) → journal → upstream leg → accounting. Bodies flow as streams both ways; the only I/O
 * awaited is the upstream (and the database on a token cache miss). Resolves once the request is
 * fully accounted for.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  deps: ProxyDeps,
  expectsContinue = false,
): Promise<void> {
  const pr = new ProxyRequest(req, res, id, expectsContinue);
  deps.hooks?.start?.(pr);
  // Method and path first: nothing is looked up, read or forwarded for a request line that cannot be.
  const badLine = checkRequestLine(req.method, pr.path);
  if (badLine) return refuse(pr, badLine, deps.logger, deps.hooks);
  const token = presentedToken(req.headers);
  if (!token) return refuse(pr, errors.missingApiKey(), deps.logger, deps.hooks);
  let identity: TokenIdentity | undefined;
  try {
    identity = deps.authenticator.cached(token);
  } catch (err) {
    return refuse(pr, err as AppError, deps.logger, deps.hooks);
  }
  if (identity) return admitThenForward(pr, identity, deps);
  return deps.authenticator.authenticate(token).then(
    (found) => admitThenForward(pr, found, deps),
    (err: unknown) => {
      const appErr = fromUnexpected(err);
      // A 401 is the client's; a 5xx (the store is down) is the operator's to hear about.
      if (appErr.status >= 500)
        deps.logger.error(
          { err: (err as Error).message, cause: ((err as Error).cause as Error | undefined)?.message, request_id: id },
          'token lookup failed',
        );
      return refuse(pr, appErr, deps.logger, deps.hooks);
    },
  );
}

/**
 * A request past PROXY_MAX_IN_FLIGHT: answered 503 at once, before its token is looked up or its
 * body read (what arrives of it is discarded), like every refusal not a usage record.
 */
export function shed(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  deps: ProxyDeps,
  expectsContinue: boolean,
): void {
  const pr = new ProxyRequest(req, res, id, expectsContinue);
  deps.hooks?.start?.(pr);
  void refuse(pr, errors.serverOverloaded(), deps.logger, deps.hooks);
}

async function admitThenForward(pr: ProxyRequest, identity: TokenIdentity, deps: ProxyDeps): Promise<void> {
  pr.identity = identity;
  const admitted = await admit(pr, identity, deps);
  if (admitted instanceof IdempotentReplay) return replayIdempotent(pr, admitted, deps);
  // A request that claimed its Idempotency-Key but is not sent: the key is free again.
  if (!(admitted instanceof Admitted)) releaseUnsent(pr, deps);
  if (admitted === null) {
    deps.hooks?.left?.(pr);
    return;
  }
  if (admitted instanceof AppError) return refuse(pr, admitted, deps.logger, deps.hooks);
  deps.hooks?.admitted?.(pr, admitted);
  return new Exchange(pr, admitted, deps).run();
}

/**
 * An admitted request from here to its usage record: journaled, sent upstream as one leg (tried
 * again by the failover around it while no byte reached the client), accounted once.
 */
class Exchange implements LegOwner, AttemptOwner {
  private readonly leg: UpstreamLeg;
  private readonly capture: UsageCapture;
  /** Retries and failover, for a request whose body can be sent again (failover.ts). */
  private readonly failover: Failover | undefined;
  /** What the upstream's response goes through: the failover, else the usage capture. */
  private readonly handler: Dispatcher.DispatchHandler;
  /** Records the response of a request holding an Idempotency-Key, for its repeats. */
  private readonly recorder: ResponseRecorder | undefined;
  /** The request's use of the response cache, if any (cache/response-cache.ts). */
  private readonly cacheTurn: CacheTurn | undefined;
  /** Answered from a stored response instead of the upstream. */
  private replayed: Replayed | undefined;
  private journaled: UsageAdmission;
  private done: (() => void) | undefined;
  private accounted = false;
  /** The key's outcome went to its cooldown (key-health.ts): once, at the status or at the end. */
  private keyReported = false;
  /** The key whose in-flight count (key-load.ts) this attempt holds, until it ends; pools of two or more. */
  private loadKey: string | undefined;
  /** When the attempt was sent, by the runtime's clock (the key's latency is measured by it). */
  private loadSince = 0;

  constructor(
    private readonly pr: ProxyRequest,
    private readonly admitted: Admitted,
    private readonly deps: ProxyDeps,
  ) {
    this.leg = new UpstreamLeg(pr, this, deps.hooks);
    const idem = pr.idempotencyClaim ? deps.idempotency : undefined;
    this.recorder = idem && new ResponseRecorder(this.leg, idem.settings.maxResponseBytes);
    const recorded = this.recorder ?? this.leg;
    this.cacheTurn = deps.cache?.turn(pr, pr.identity as TokenIdentity, admitted.body);
    this.capture = new UsageCapture(this.cacheTurn ? this.cacheTurn.wrap(recorded) : recorded, deps.logBodyMaxBytes);
    this.capture.expectsFinalEvent = STREAMS_WITH_FINAL_EVENT.has(pr.family);
    this.capture.countImages = pr.family.startsWith('images.');
    // A body piped from the client is not held: such a request is sent once.
    if (deps.retries.enabled && (admitted.body !== undefined || !hasBody(pr))) {
      deps.retries.budget.deposit();
      this.failover = new Failover(this.capture, this.leg, pr, admitted, deps, this);
    }
    this.handler = this.failover ?? this.capture;
  }

  run(): Promise<void> {
    const { pr, admitted } = this;
    const finished = new Promise<void>((resolve) => {
      this.done = resolve;
    });
    pr.res.on('close', this.onClose);
    const identity = pr.identity as TokenIdentity;
    // From here on the request counts: the journal line reaches the kernel before the upstream is
    // called (at the end of this event-loop turn, with the turn's others), and every path below
    // ends in exactly one usage record.
    this.journaled = this.deps.admitUsage(
      {
        id: pr.id,
        tokenId: identity.tokenId,
        projectId: identity.projectId,
        method: pr.method,
        path: pr.path,
        model: admitted.facts?.model ?? null,
        estimatedTokens: admitted.ticket.estimatedTokens,
        estimatedCostNanoUsd: admitted.ticket.estimatedCostNanoUsd,
        at: admitted.ticket.admittedAt,
      },
      this.send,
    );
    return finished;
  }

  private readonly onClose = (): void => {
    if (this.pr.responseComplete) return;
    this.pr.clientGone = true;
    if (this.failover?.cancel()) return;
    this.leg.abort(new Error('client closed the connection'));
  };

  private readonly send = (): void => {
    const turn = this.cacheTurn;
    if (turn?.plan.lookup && !this.pr.clientGone) {
      turn
        .lookup()
        .then((hit) => (hit ? this.serveHit(turn, hit) : this.sendUpstream()))
        .catch((err: unknown) => this.onLegFailed(this.leg, err as Error));
      return;
    }
    this.sendUpstream();
  };

  /** A stored answer: replayed, accounted with no upstream use (but charged against request caps at admission). */
  private serveHit(turn: CacheTurn, hit: CacheEntry): void {
    const { pr } = this;
    const bytes = replay(pr, hit.response, turn.hitHeaders(hit));
    this.replayed = { from: 'cache', stream: hit.response.stream, tFirstByte: performance.now() };
    if (bytes === 0 && pr.responseGone) this.finish(499, 0, 'client_aborted');
    else this.finish(hit.response.status, bytes, null);
  }

  private sendUpstream(): void {
    const { pr, admitted } = this;
    if (pr.clientGone || pr.responseGone) {
      this.onLegFailed(this.leg, new Error('client closed the connection'));
      return;
    }
    const key = pr.upstreamKey as UpstreamKey;
    if ((pr.identity as TokenIdentity).upstreamKeys.length > 1) {
      this.deps.keyLoad.started(key.id);
      this.loadKey = key.id;
      this.loadSince = this.deps.now();
    }
    const headers = upstreamRequestHeaders(pr.req.headers, key);
    this.deps.hooks?.upstreamRequest?.(pr, headers);
    try {
      const body = this.requestBody(headers);
      pr.letBodyIn();
      const path = key.prefix + (pr.req.url ?? '/');
      this.leg.dispatch(admitted.upstream, path, headers, body, this.handler);
    } catch (err) {
      this.onLegFailed(this.leg, err as Error);
    }
  }

  /**
   * The upstream body: nothing for bodiless requests, the client's stream as is (with a byte limit
   * when its length is not declared), the body as read, or, for a streamed completion that did not
   * ask for usage, the body with `stream_options.include_usage` added.
   */
  private requestBody(headers: Record<string, string | string[]>): Readable | Buffer | null {
    const { pr, admitted, deps } = this;
    if (!hasBody(pr)) return null;
    if (!admitted.body) {
      if (pr.chunked) delete headers['content-length'];
      // The leg starts watching it when undici starts sending; its byte count is the record's.
      const upload = new StreamedUpload(pr.req, pr.chunked, deps.bodyWatch, deps.bodyLimitBytes, pr.t0);
      this.leg.upload = upload;
      return upload.source();
    }
    const rewritten = admitted.includeUsage ? withIncludeUsage(admitted.body) : undefined;
    if (!rewritten) return admitted.body.bytes;
    this.capture.injected = true;
    headers['content-length'] = String(rewritten.length);
    return rewritten;
  }

  onLegEnd(leg: UpstreamLeg): void {
    this.cacheTurn?.ended();
    this.finish(leg.status, leg.bytesOut, leg.error);
  }

  /** Nothing reached the client: answer in OpenAI's error shape (unless the client is gone). */
  onLegFailed(_leg: UpstreamLeg, err: Error): void {
    if (this.pr.clientGone) {
      this.finish(499, 0, 'client_aborted');
      return;
    }
    // A key that could not be reached (connect, reset) cools down as after a 5xx; our own errors
    // (a headers timeout, a refused body) say nothing against it.
    if (!(err instanceof AppError)) this.reportKey(FAILED);
    // After retries, an SDK is told not to multiply them.
    const appErr = this.pr.retries > 0 ? upstreamError(err).afterRetries() : upstreamError(err);
    discardBody(this.pr);
    const bytes = sendError(this.pr, appErr);
    this.finish(appErr.status, bytes, appErr.code);
  }

  private finish(status: number, bytesOut: number, error: string | null): void {
    if (this.accounted) return;
    this.accounted = true;
    this.reportKey(NEUTRAL);
    this.endLoad();
    const { upload } = this.leg;
    upload?.stop();
    const bytesIn = upload ? upload.bytesIn : (this.admitted.body?.bytes.length ?? 0);
    const rec = account(
      this.pr,
      this.admitted,
      {
        leg: this.leg,
        capture: this.capture,
        bytesIn,
        status,
        bytesOut,
        error,
        journaled: this.journaled,
        replayed: this.replayed,
      },
      this.deps,
    );
    settleIdempotency(this.pr, this.recorder, status, this.deps);
    this.deps.hooks?.end?.(this.pr, rec, this.leg.stream ? this.leg : undefined);
    this.done?.();
  }

  /** The status decides the key's cooldown: 2xx/3xx closes one, 429/5xx opens one, a 4xx says nothing. */
  onLegStatus(leg: UpstreamLeg): void {
    const s = leg.status;
    if (this.loadKey !== undefined) {
      this.deps.keyLoad.observed(this.loadKey, Math.max(0, this.deps.now() - this.loadSince), leg.headers);
    }
    if (this.cacheTurn) this.pr.extraHeaders = this.cacheTurn.forwardedHeaders(s);
    this.reportKey(s === 429 || s >= 500 ? { kind: 'failed', hintMs: leg.retryHintMs } : s < 400 ? OK : NEUTRAL);
  }

  attemptFailed(outcome: KeyOutcome): void {
    this.reportKey(outcome);
    this.endLoad();
    // The next attempt's key is told of its own outcome.
    this.keyReported = false;
  }

  resend(): void {
    this.sendUpstream();
  }

  clientLeft(): void {
    this.onLegFailed(this.leg, new Error('client closed the connection'));
  }

  /** The attempt is over: its key's in-flight count goes down (key-load.ts). */
  private endLoad(): void {
    if (this.loadKey !== undefined) this.deps.keyLoad.ended(this.loadKey);
    this.loadKey = undefined;
  }

  /** Tells the key's cooldown how it did, once per attempt; pools of one key are never cooled, so not told. */
  private reportKey(outcome: KeyOutcome): void {
    if (this.keyReported) return;
    this.keyReported = true;
    const key = this.pr.upstreamKey;
    if (!key || (this.pr.identity as TokenIdentity).upstreamKeys.length < 2) return;
    this.deps.keyHealth.report(key.id, this.admitted.facts?.model ?? '', outcome);
  }
}

const OK: KeyOutcome = { kind: 'ok' };
const NEUTRAL: KeyOutcome = { kind: 'neutral' };
const FAILED: KeyOutcome = { kind: 'failed', hintMs: undefined };

/** A request body follows its head (a declared length above 0, or chunked). */
function hasBody(pr: ProxyRequest): boolean {
  const length = pr.req.headers['content-length'];
  return pr.chunked || (length !== undefined && length !== '0');
}

function upstreamError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; cause?: { code?: string } };
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return errors.upstreamTimeout('connecting');
  return errors.upstreamUnavailable(e.code ?? e.cause?.code ?? 'connection failed');
}
