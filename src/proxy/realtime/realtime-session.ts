import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RawData, WebSocket } from 'ws';
import { uuidv7 } from '../../crypto/ids.js';
import { AppError } from '../../errors.js';
import type { SubjectLimits, Ticket } from '../../limits/limits.js';
import type { UpstreamKey } from '../../projects/upstream-key.js';
import type { TokenIdentity } from '../../tokens/authenticator.js';
import { type UsageAdmission, type UsageRecord, unbilledRecord } from '../../usage/usage-writer.js';
import { chargeLimits, DEFAULT_OUTPUT_ESTIMATE } from '../admission.js';
import type { RealtimeSessionRef } from '../hooks.js';
import type { ProxyDeps } from '../proxy-deps.js';
import { type RealtimeUsage, readRealtimeUsage, realtimeCost, realtimeUnits } from './realtime-usage.js';

export const REALTIME_PATH = '/v1/realtime';

/**
 * Close codes the proxy itself closes a session with (4000-4999 are the application's, RFC 6455
 * §7.4.2), each with a reason naming what happened; the upstream's own codes pass through as sent.
 */
export const CLOSE_CODES = {
  /** The token was revoked or expired, or its project deactivated, while the session was open. */
  tokenInvalid: 4001,
  /** A limit (budget, tokens per minute) refused the next response. */
  limitReached: 4002,
  /** The proxy is shutting down (RFC 6455's "going away"). */
  goingAway: 1001,
  /** The upstream connection failed without a close frame. */
  upstreamLost: 1011,
} as const;

/** Bytes buffered for one side past which the other side's reading pauses (back-pressure). */
/**
 * How long the upstream has, once the client has gone mid-response, to answer the proxy's
 * `response.cancel` with that response's `response.done` (and the usage it bills).
 */
const CANCEL_GRACE_MS = 5_000;
const RESPONSE_CREATED = Buffer.from('response.created');
const RESPONSE_DONE = Buffer.from('response.done');
const DELTA = Buffer.from('.delta"');
const HIGH_WATER = 1024 * 1024;
const BINARY = { binary: true };
const TEXT = { binary: false };
const LOW_WATER = 256 * 1024;

/** What the gateway gives a session, beside the proxy's own dependencies. */
export interface SessionContext {
  id: string;
  /** performance.now() at the upgrade request's arrival. */
  t0: number;
  /** The token as presented: re-checked when the authenticator says something changed. */
  presented: string;
  identity: TokenIdentity;
  key: UpstreamKey;
  model: string | null;
  ticket: Ticket;
  journaled: UsageAdmission;
  clientIp: string | undefined;
  userAgent: string | undefined;
  /** The upgrade request's headers, for the hooks (a trace context). */
  headers: IncomingHttpHeaders;
  /** performance.now() when the upstream accepted the handshake. */
  tUpstreamOpen: number;
  /** The upstream's id of its handshake answer (`x-request-id`); null when it sent none. */
  upstreamRequestId: string | null;
}

/** Counters every session adds to, read by the metrics at scrape time. */
export interface RealtimeStats {
  open: number;
  frames: { toUpstream: { text: number; binary: number }; toClient: { text: number; binary: number } };
  bytes: { toUpstream: number; toClient: number };
  /** Times reading from one side was paused because the other had too much buffered (back-pressure). */
  pauses: { upstream: number; client: number };
}

export const newRealtimeStats = (): RealtimeStats => ({
  open: 0,
  frames: { toUpstream: { text: 0, binary: 0 }, toClient: { text: 0, binary: 0 } },
  bytes: { toUpstream: 0, toClient: 0 },
  pauses: { upstream: 0, client: 0 },
});

/** One response of a session, from `response.created` to `response.done` (or the session's end). */
interface PendingResponse {
  id: string;
  /** The upstream's id of the response (`response.created`'s `response.id`), what it bills it under. */
  upstreamId: string | null;
  t0: number;
  ticket: Promise<Ticket | AppError>;
  journaled: UsageAdmission;
  /** Output deltas seen: what a response cut before `response.done` is estimated by. */
  deltas: number;
}

/**
 * One Realtime API session through the proxy: the client's WebSocket and the upstream's, frames
 * passed through unchanged both ways (text and binary, pings and pongs, close codes), reading only
 * the upstream's `response.created` and `response.done` events for accounting. Each response is
 * admitted against the token's and project's tokens-per-minute and budgets at `response.created`
 * (estimate: DEFAULT_OUTPUT_ESTIMATE output tokens) and settled with its actual usage at
 * `response.done`, one usage record each; the session holds its connection's request, rate and
 * concurrency charge until it closes, and is one more record then.
 */
export class RealtimeSession {
  private readonly responses = new Map<string, PendingResponse>();
  /** The latest response started: output deltas are counted against it. */
  private current: PendingResponse | undefined;
  private framesIn = 0;
  private framesOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private clientClosed = false;
  private upstreamClosed = false;
  private closeCode: number | undefined;
  /** Set when the proxy closed the session itself: the catalogue code of why. */
  private closedFor: string | null = null;
  private finished = false;
  /** Set while the client has gone and a cancelled response's `response.done` is awaited: closes the upstream. */
  private afterCancel: (() => void) | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Closes once its response in progress is done (a draining shutdown). */
  private draining = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly ctx: SessionContext,
    private readonly client: WebSocket,
    private readonly upstream: WebSocket,
    private readonly deps: ProxyDeps,
    private readonly stats: RealtimeStats,
    private readonly onEnd: (session: RealtimeSession, rec: UsageRecord, durationS: number) => void,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    stats.open++;
    client.on('message', this.fromClient);
    upstream.on('message', this.fromUpstream);
    client.on('ping', (data) => upstream.readyState === upstream.OPEN && upstream.ping(data));
    client.on('pong', (data) => upstream.readyState === upstream.OPEN && upstream.pong(data));
    upstream.on('ping', (data) => client.readyState === client.OPEN && client.ping(data));
    upstream.on('pong', (data) => client.readyState === client.OPEN && client.pong(data));
    client.on('close', (code, reason) => {
      this.clientClosed = true;
      this.closeCode ??= code;
      this.closeUpstreamAfterCancel(code, reason);
      this.maybeFinish();
    });
    upstream.on('close', (code, reason) => {
      this.upstreamClosed = true;
      this.closeCode ??= code;
      if (code === 1006) {
        this.closedFor ??= 'upstream_unavailable';
        this.closeOther(client, CLOSE_CODES.upstreamLost, Buffer.from('upstream connection lost'));
      } else this.closeOther(client, code, reason);
      this.maybeFinish();
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
    this.watchExpiry();
  }

  /** Bytes queued on both sockets that their peers have not taken yet. */
  get buffered(): number {
    return this.client.bufferedAmount + this.upstream.bufferedAmount;
  }

  get tokenId(): string {
    return this.ctx.identity.tokenId;
  }
  get projectId(): string {
    return this.ctx.identity.projectId;
  }

  /**
   * The token or its project changed (authenticator invalidation): the token is checked again
   * (a store read) and the session closed when it no longer passes; its new limits apply to the
   * next response.
   */
  recheck(): void {
    if (this.finished) return;
    this.deps.authenticator.authenticate(this.ctx.presented).then(
      (identity) => {
        this.ctx.identity = identity;
        this.watchExpiry();
      },
      (err: unknown) => {
        // A store outage is no verdict on the token: the session goes on.
        if (err instanceof AppError && err.status === 401) this.closeFor(CLOSE_CODES.tokenInvalid, err);
      },
    );
  }

  /** Shutdown: closes now when no response is in progress, else once it is done. */
  drain(): void {
    this.draining = true;
    if (this.responses.size === 0) this.close(CLOSE_CODES.goingAway, 'the proxy is shutting down');
  }

  /** Closes both sides with `code` and `reason` (the client's; the upstream gets a normal close). */
  close(code: number, reason: string): void {
    // The code the client is sent is the session's, whichever side's close arrives first.
    if (this.client.readyState === this.client.OPEN) this.closeCode ??= code;
    if (this.client.readyState === this.client.OPEN) this.client.close(code, cut(reason));
    if (this.upstream.readyState === this.upstream.OPEN) this.upstream.close(1000, 'closed by the proxy');
  }

  /** Cuts both connections without waiting for a close handshake (a peer that does not read). */
  terminate(): void {
    this.client.terminate();
    this.upstream.terminate();
  }

  private closeFor(code: number, err: AppError): void {
    this.closedFor ??= err.code;
    this.deps.logger.info(
      { request_id: this.ctx.id, token_id: this.tokenId, code: err.code, close_code: code },
      'realtime session closed by the proxy',
    );
    this.close(code, err.message);
  }

  private watchExpiry(): void {
    clearTimeout(this.expiryTimer);
    const at = this.ctx.identity.expiresAt;
    if (at === null) return;
    // A timer reaches 24.8 days at most: a later expiry sets it again when it fires.
    const inMs = Math.min(Math.max(0, at - this.deps.now()), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => this.recheck(), inMs);
    this.expiryTimer.unref();
  }

  /** A frame reached the upstream's socket: the client is read again once the upstream has taken enough. */
  private readonly toUpstreamWritten = (): void => {
    if (this.client.isPaused && this.upstream.bufferedAmount < LOW_WATER) this.client.resume();
  };

  /** A frame reached the client's socket: the upstream is read again once the client has taken enough. */
  private readonly toClientWritten = (): void => {
    if (this.upstream.isPaused && this.client.bufferedAmount < LOW_WATER) this.upstream.resume();
  };

  private readonly fromClient = (data: RawData, isBinary: boolean): void => {
    const size = byteLength(data);
    this.framesIn++;
    this.bytesIn += size;
    this.stats.bytes.toUpstream += size;
    if (isBinary) this.stats.frames.toUpstream.binary++;
    else this.stats.frames.toUpstream.text++;
    if (relay(this.upstream, data, isBinary, this.client, this.toUpstreamWritten)) this.stats.pauses.client++;
  };

  private readonly fromUpstream = (data: RawData, isBinary: boolean): void => {
    const size = byteLength(data);
    this.framesOut++;
    this.bytesOut += size;
    this.stats.bytes.toClient += size;
    if (relay(this.client, data, isBinary, this.upstream, this.toClientWritten)) this.stats.pauses.upstream++;
    if (isBinary) this.stats.frames.toClient.binary++;
    else {
      this.stats.frames.toClient.text++;
      // After the frame went on: a `response.done` that lets a draining session close reaches
      // the client before the close frame.
      this.inspect(data as Buffer);
    }
  };

  /**
   * The upstream's events that accounting needs, found without parsing the rest: base64 audio
   * cannot hold a dot, so a frame without `response.created`/`.done` is only counted.
   */
  private inspect(data: Buffer): void {
    // Searched in the bytes: no string is made of a frame that accounting does not need.
    if (data.indexOf(RESPONSE_CREATED) !== -1 || data.indexOf(RESPONSE_DONE) !== -1) {
      let event: { type?: unknown; response?: { id?: unknown; status?: unknown; usage?: unknown } };
      try {
        event = JSON.parse(data.toString('utf8'));
      } catch {
        return;
      }
      const id = typeof event.response?.id === 'string' ? event.response.id : '';
      if (event.type === 'response.created') this.responseCreated(id);
      else if (event.type === 'response.done') {
        const status = typeof event.response?.status === 'string' ? event.response.status : null;
        this.responseDone(id, readRealtimeUsage(event.response?.usage), status);
      }
    } else if (this.current && data.indexOf(DELTA) !== -1) this.current.deltas++;
  }

  /** The response's own limits: its tokens and cost. The connection holds the request, rate and concurrency charge. */
  private responseSubjects(): SubjectLimits[] {
    return this.ctx.identity.limits.map((s) => ({
      ...s,
      maxRequests: null,
      requestsPerMinute: null,
      maxConcurrent: null,
    }));
  }

  private responseCreated(responseId: string): void {
    const { identity, model } = this.ctx;
    // The token is checked from memory at each response too: a change missed would stop here.
    try {
      this.deps.authenticator.cached(this.ctx.presented);
    } catch (err) {
      if (err instanceof AppError && err.status === 401) {
        this.closeFor(CLOSE_CODES.tokenInvalid, err);
        return;
      }
    }
    const id = uuidv7();
    const estimatedTokens = DEFAULT_OUTPUT_ESTIMATE;
    const estimatedCost =
      this.deps.pricing.cost(model, {
        promptTokens: 0,
        completionTokens: estimatedTokens,
        cachedTokens: 0,
        reasoningTokens: 0,
      }) ?? 0;
    const ticket = Promise.resolve(
      chargeLimits(id, this.responseSubjects(), estimatedTokens, estimatedCost, this.deps),
    );
    const pending: PendingResponse = {
      id,
      upstreamId: responseId === '' ? null : responseId,
      t0: performance.now(),
      ticket,
      journaled: undefined,
      deltas: 0,
    };
    this.responses.set(responseId, pending);
    this.current = pending;
    void ticket.then((t) => {
      if (t instanceof AppError) {
        // Refused: nothing was charged, so it is no record; the session ends here.
        this.responses.delete(responseId);
        if (this.current === pending) this.current = undefined;
        this.closeFor(CLOSE_CODES.limitReached, t);
        return;
      }
      pending.journaled = this.deps.admitUsage(
        {
          id,
          tokenId: identity.tokenId,
          projectId: identity.projectId,
          method: 'GET',
          path: REALTIME_PATH,
          model,
          estimatedTokens,
          estimatedCostNanoUsd: estimatedCost,
          at: t.admittedAt,
        },
        () => {},
      );
    });
  }

  private responseDone(responseId: string, usage: RealtimeUsage | undefined, status: string | null): void {
    const pending = this.responses.get(responseId);
    if (!pending) return;
    this.responses.delete(responseId);
    if (this.current === pending) this.current = undefined;
    void this.settleResponse(pending, usage, status);
    if (this.responses.size === 0) this.afterCancel?.();
    if (this.draining && this.responses.size === 0) this.close(CLOSE_CODES.goingAway, 'the proxy is shutting down');
  }

  /** A response's one record: its reported usage, or (cut before `response.done`) estimated from its deltas. */
  private async settleResponse(
    pending: PendingResponse,
    usage: RealtimeUsage | undefined,
    finishReason: string | null,
  ): Promise<void> {
    const ticket = await pending.ticket;
    if (ticket instanceof AppError) return;
    const { identity, model } = this.ctx;
    const estimated = usage === undefined;
    const prompt = usage ? usage.inputTokens : 0;
    const completion = usage ? usage.outputTokens : pending.deltas;
    const cached = usage ? usage.input.cached : 0;
    const cost = usage
      ? realtimeCost(this.deps.pricing, model, usage)
      : this.deps.pricing.cost(model, {
          promptTokens: 0,
          completionTokens: completion,
          cachedTokens: 0,
          reasoningTokens: 0,
        });
    this.deps.limiter.settle(ticket, prompt + completion, cost ?? 0);
    const units = usage && realtimeUnits(usage);
    const rec: UsageRecord = {
      ...unbilledRecord({
        id: pending.id,
        tokenId: identity.tokenId,
        projectId: identity.projectId,
        method: 'GET',
        path: REALTIME_PATH,
        model,
        status: 200,
        stream: true,
        durationMs: round(performance.now() - pending.t0),
        createdAt: this.deps.now(),
      }),
      promptTokens: prompt,
      completionTokens: completion,
      totalTokens: prompt + completion,
      cachedTokens: cached,
      finishReason: estimated ? null : finishReason,
      error: estimated ? 'upstream_unavailable' : null,
      costNanoUsd: cost,
      usageStatus: estimated ? 'estimated' : 'reported',
      upstreamKeyId: this.ctx.key.id,
      upstreamRequestId: pending.upstreamId,
      billedUnits: units ? JSON.stringify(units) : null,
    };
    this.deps.recordUsage(rec, pending.journaled);
    this.deps.hooks?.realtime?.(this.ref('response'), rec);
  }

  private ref(kind: RealtimeSessionRef['kind']): RealtimeSessionRef {
    const { id, t0, headers, clientIp } = this.ctx;
    return { id, t0, headers, clientIp, kind };
  }

  /**
   * The client has gone. A response still in progress would be cut and only estimated, while the
   * upstream bills what it produced: it is cancelled instead, and the upstream closed once its
   * `response.done` (status `cancelled`, with usage) is in, or after CANCEL_GRACE_MS.
   */
  private closeUpstreamAfterCancel(code: number, reason: Buffer): void {
    const { upstream } = this;
    if (this.responses.size === 0 || upstream.readyState !== upstream.OPEN) {
      this.closeOther(upstream, code, reason);
      return;
    }
    const timer = setTimeout(() => this.afterCancel?.(), CANCEL_GRACE_MS);
    timer.unref();
    this.afterCancel = () => {
      this.afterCancel = undefined;
      clearTimeout(timer);
      this.closeOther(upstream, code, reason);
    };
    for (const id of this.responses.keys()) {
      upstream.send(JSON.stringify(id ? { type: 'response.cancel', response_id: id } : { type: 'response.cancel' }));
    }
  }

  private closeOther(other: WebSocket, code: number, reason: Buffer): void {
    if (other.readyState !== other.OPEN) {
      if (other.readyState === other.CONNECTING) other.terminate();
      return;
    }
    // 1005 (no code), 1006 (no close frame) and 1015 cannot be sent: a close without a code.
    if (code === 1005 || code === 1006 || code === 1015 || code < 1000) other.close();
    else other.close(code, reason);
  }

  private maybeFinish(): void {
    if (this.finished || !this.clientClosed || !this.upstreamClosed) return;
    this.finished = true;
    clearTimeout(this.expiryTimer);
    this.stats.open--;
    void this.finish();
  }

  private async finish(): Promise<void> {
    // Responses cut before their `response.done`: recorded from what was streamed of them.
    const cut = [...this.responses.values()];
    this.responses.clear();
    await Promise.all(cut.map((p) => this.settleResponse(p, undefined, null)));
    const { ctx, deps } = this;
    deps.limiter.settle(ctx.ticket, 0, 0);
    const durationMs = performance.now() - ctx.t0;
    const code = this.closeCode ?? 1005;
    const rec: UsageRecord = {
      ...unbilledRecord({
        id: ctx.id,
        tokenId: ctx.identity.tokenId,
        projectId: ctx.identity.projectId,
        method: 'GET',
        path: REALTIME_PATH,
        model: ctx.model,
        status: 101,
        stream: true,
        durationMs: round(durationMs),
        createdAt: deps.now(),
      }),
      // The close code, where an HTTP exchange has its finish reason.
      finishReason: `close_${code}`,
      upstreamMs: round(ctx.tUpstreamOpen - ctx.t0),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      error: this.closedFor,
      upstreamKeyId: ctx.key.id,
      upstreamRequestId: ctx.upstreamRequestId,
    };
    deps.recordUsage(rec, ctx.journaled);
    deps.hooks?.realtime?.(this.ref('session'), rec);
    deps.accessLog(rec, { ip: ctx.clientIp, userAgent: ctx.userAgent });
    deps.logger.info(
      {
        request_id: ctx.id,
        token_id: rec.tokenId,
        close_code: code,
        frames_in: this.framesIn,
        frames_out: this.framesOut,
        duration_ms: rec.durationMs,
      },
      'realtime session ended',
    );
    this.onEnd(this, rec, durationMs / 1000);
    this.resolveDone();
  }
}

/**
 * Sends a frame on as it came; reading from `source` pauses while `target` has too much buffered
 * (what the proxy holds for a session is bounded by HIGH_WATER plus one message). True when this
 * frame paused it.
 */
function relay(target: WebSocket, data: RawData, isBinary: boolean, source: WebSocket, written: () => void): boolean {
  if (target.readyState !== target.OPEN) return false;
  target.send(data, isBinary ? BINARY : TEXT, written);
  if (target.bufferedAmount <= HIGH_WATER || source.isPaused) return false;
  source.pause();
  return true;
}

function byteLength(data: RawData): number {
  if (Buffer.isBuffer(data)) return data.length;
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

/** A close reason is at most 123 bytes (RFC 6455 §5.5: 125 for the control frame's payload, less the code). */
function cut(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
