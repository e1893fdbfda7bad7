import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import { AppError, errors, fromUnexpected } from '../errors.js';
import type { AdmitResult, Limiter, Ticket } from '../limits/limits.js';
import type { AccessEntry } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../shared/clock.js';
import type { Authenticator, TokenIdentity } from '../tokens/authenticator.js';
import type { AdmittedUsage } from '../usage/journal-format.js';
import type { PricingTable } from '../usage/pricing.js';
import type { UsageAdmission, UsageRecord } from '../usage/usage-writer.js';
import {
  type BodyFacts,
  bodyFacts,
  checkEndpoint,
  checkModel,
  checkModelName,
  checkPriced,
  estimate,
  MAX_INSPECTED_BODY,
  MODEL_IN_REQUEST_ONLY,
  needsBody,
  refusalError,
} from './admission.js';
import type { BodyIdleWatch, BodyReceiver } from './body-idle.js';
import { presentedToken, responseHeaderList, upstreamRequestHeaders } from './headers.js';
import { INCLUDE_USAGE_PATHS, IncludeUsageFilter, withIncludeUsage } from './include-usage.js';
import { checkRequestLine } from './request-line.js';
import { Acquired, type SlotWaiter, type UpstreamGate } from './upstream-gate.js';
import type { Upstream, UpstreamPools } from './upstream-pools.js';
import { type CapturedUsage, emptyUsage } from './usage-extract.js';
import { JsonUsageSniffer, SseUsageSniffer, type UsageSniffer } from './usage-sniffer.js';

export const REQUEST_ID_HEADER = 'x-llm-proxy-request-id';

export interface ProxyDeps {
  authenticator: Authenticator;
  limiter: Limiter;
  pricing: PricingTable;
  pools: UpstreamPools;
  /** Cuts request bodies that stall (PROXY_BODY_IDLE_TIMEOUT_MS). */
  bodyIdle: BodyIdleWatch;
  /** Journals an admitted request, then calls `dispatch`: a crash cannot lose its accounting. */
  admitUsage: (a: AdmittedUsage, dispatch: () => void) => UsageAdmission;
  recordUsage: (rec: UsageRecord, admission: UsageAdmission) => void;
  logger: Logger;
  accessLog: (e: AccessEntry) => void;
  bodyLimitBytes: number;
  streamIncludeUsage: boolean;
  /** The runtime's clock: what rate limits and budget periods count time by. */
  now: Clock;
}

/**
 * The hot path: authenticate → allowlists and limits → forward → stream back → account. Bodies flow as streams in
 * both directions; the only I/O awaited is the upstream itself (and the database on a token
 * cache miss). Usage goes to a batched writer after the response has been handed to the client.
 * Resolves once the exchange is fully accounted for.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  deps: ProxyDeps,
  expectsContinue = false,
): Promise<void> {
  const x = new Exchange(req, res, id, deps, expectsContinue);
  // Method and path first: nothing is looked up, read or forwarded for a request line that cannot be.
  const badLine = checkRequestLine(req.method, x.path);
  if (badLine) return x.refuse(badLine);
  const token = presentedToken(req.headers);
  if (!token) return x.refuse(errors.missingApiKey());
  let identity: TokenIdentity | undefined;
  try {
    identity = deps.authenticator.cached(token);
  } catch (err) {
    return x.refuse(err as AppError);
  }
  if (identity) return x.admit(identity);
  return deps.authenticator.authenticate(token).then(
    (found) => x.admit(found),
    (err: unknown) => {
      if (err instanceof AppError) return x.refuse(err);
      deps.logger.error({ err: (err as Error).message, request_id: id }, 'token lookup failed');
      return x.refuse(fromUnexpected(err));
    },
  );
}

/**
 * One request through the proxy, and the undici dispatch handler for its upstream leg: response
 * bytes go straight from the upstream socket to the client's, with backpressure both ways
 * (pause upstream when the client's buffer is full, resume on drain).
 */
class Exchange implements Dispatcher.DispatchHandler, SlotWaiter, BodyReceiver {
  private readonly t0 = performance.now();
  readonly path: string;
  private identity: TokenIdentity | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private tSent: number | undefined;
  private tHeaders: number | undefined;
  private tFirstByte: number | undefined;
  private status = 0;
  private stream = false;
  private injected = false;
  private bytesIn = 0;
  private bytesOut = 0;
  private error: string | null = null;
  private usage: CapturedUsage = emptyUsage();
  private sniffer: UsageSniffer | undefined;
  private sse: SseUsageSniffer | undefined;
  private filter: IncludeUsageFilter | undefined;
  private clientGone = false;
  private done: (() => void) | undefined;
  /** The request body when it had to be read (limits, allowlists, include_usage). */
  private body: Buffer | undefined;
  private facts: BodyFacts | undefined;
  private ticket: Ticket | undefined;
  private upstream: Upstream | undefined;
  /** Holds one of the upstream's connection slots (given back exactly once). */
  private holdsSlot = false;
  private slotWait: ((granted: boolean) => void) | undefined;
  /** Set while the body is read before forwarding: fails that read. */
  private bodyReject: ((err: Error) => void) | undefined;
  /** The client's body is piped to the upstream as it arrives (not read first). */
  private streamedBody = false;
  private bodySeen = 0;
  idleSweeps = 0;
  private accounted = false;
  private admission: UsageAdmission;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly id: string,
    private readonly deps: ProxyDeps,
    /** The client sent `Expect: 100-continue` and waits for our `100 Continue` before the body. */
    private continuePending: boolean,
  ) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
  }

  /**
   * A known, valid token: check its allowlists and limits (all of them, token and project, as one
   * atomic step), then forward. Reads the body first only when a check needs what is inside.
   */
  async admit(identity: TokenIdentity): Promise<void> {
    const { req, deps } = this;
    this.identity = identity;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > deps.bodyLimitBytes) return this.refuse(errors.bodyTooLarge(deps.bodyLimitBytes));
    const denied = checkEndpoint(identity, req.method ?? 'GET', this.path);
    if (denied) return this.refuse(denied);

    const chunked = req.headers['transfer-encoding'] !== undefined;
    const readable = !chunked && declared > 0 && declared <= MAX_INSPECTED_BODY;
    // Also read where only the request names the model, so the usage reported can be priced.
    const modelInRequestOnly = req.method === 'POST' && MODEL_IN_REQUEST_ONLY.has(this.path);
    if (readable && (needsBody(identity) || modelInRequestOnly || this.wantsIncludeUsage())) {
      this.letBodyIn();
      try {
        this.body = await this.readBody();
      } catch (err) {
        if (err instanceof AppError) return this.refuse(err);
        deps.logger.info({ request_id: this.id, path: this.path }, 'client went away before the request was forwarded');
        return;
      }
      // Parsed only when a check needs it; most requests only want include_usage (see requestBody).
      if (needsBody(identity)) this.facts = bodyFacts(this.body, req.headers);
    }
    const badModel = checkModelName(this.facts);
    if (badModel) return this.refuse(badModel);
    const modelProblem = checkModel(identity, this.facts?.model);
    if (modelProblem) return this.refuse(modelProblem);
    const unpriced = checkPriced(identity, this.facts?.model, deps.pricing);
    if (unpriced) return this.refuse(unpriced);
    // A connection slot before the limits: a request refused here (share, saturation) is charged nothing.
    const upstream = deps.pools.get(identity.upstreamOrigin);
    this.upstream = upstream;
    const got = upstream.gate.acquire(identity.tokenId, identity.projectId, this);
    if (got !== Acquired.Taken) {
      if (got === Acquired.OverShare) return this.refuse(shareRefusal(upstream.gate));
      if (got === Acquired.Full) return this.refuse(errors.upstreamSaturated('every connection is busy'));
      if (!(await this.waitForSlot(upstream.gate))) {
        if (!this.clientGone) {
          return this.refuse(
            errors.upstreamSaturated(`no connection was free within ${upstream.gate.queueTimeoutMs} ms`),
          );
        }
        deps.logger.info({ request_id: this.id, path: this.path }, 'client went away while waiting for the upstream');
        return;
      }
    }
    this.holdsSlot = true;
    const guess = estimate(this.facts, deps.pricing);
    let decision: AdmitResult;
    try {
      decision = await deps.limiter.admit({
        subjects: identity.limits,
        estimatedTokens: guess.tokens,
        estimatedCostMicroUsd: guess.costMicroUsd,
        now: deps.now(),
      });
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, request_id: this.id }, 'limiter failed');
      return this.refuse(fromUnexpected(err));
    }
    if (!decision.ok) return this.refuse(refusalError(decision.refusal, decision.rate, guess.costMicroUsd));
    this.ticket = decision.ticket;
    return this.forwardAdmitted(identity);
  }

  /**
   * Sends the `100 Continue` a client waits for before uploading its body: only once the checks
   * that need no body have passed, so a refused request gets its 401/403/413/429 without the upload.
   */
  private letBodyIn(): void {
    if (!this.continuePending) return;
    this.continuePending = false;
    this.res.writeContinue();
  }

  /** Waits in the upstream's queue; false when the wait timed out or the client left. */
  private waitForSlot(gate: UpstreamGate): Promise<boolean> {
    return new Promise((resolve) => {
      const onClose = () => {
        if (!gate.cancel(this)) return;
        this.clientGone = true;
        this.slotWait = undefined;
        resolve(false);
      };
      this.res.once('close', onClose);
      this.slotWait = (granted) => {
        this.res.off('close', onClose);
        resolve(granted);
      };
    });
  }

  onSlot(granted: boolean): void {
    const wait = this.slotWait;
    this.slotWait = undefined;
    wait?.(granted);
  }

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    const identity = this.identity as TokenIdentity;
    (this.upstream as Upstream).gate.release(identity.tokenId, identity.projectId);
  }

  /** Reads the whole body before forwarding; a stall past the idle timeout fails it with 408. */
  private readBody(): Promise<Buffer> {
    const { req, deps } = this;
    return new Promise((resolve, reject) => {
      // Gone while the token was looked up (a database round trip): no event would come any more.
      if (req.destroyed) {
        reject(new Error('client closed the connection'));
        return;
      }
      const chunks: Buffer[] = [];
      const fail = (err: Error) => {
        deps.bodyIdle.unwatch(this);
        this.bodyReject = undefined;
        reject(err);
      };
      this.bodyReject = fail;
      deps.bodyIdle.watch(this);
      req.on('data', (c: Buffer) => {
        this.idleSweeps = 0;
        chunks.push(c);
      });
      req.once('end', () => {
        deps.bodyIdle.unwatch(this);
        this.bodyReject = undefined;
        resolve(Buffer.concat(chunks));
      });
      req.once('error', fail);
      req.once('aborted', () => fail(new Error('client aborted the request body')));
    });
  }

  /** The body stalled: fail the read, or cancel the upstream request it was being piped into. */
  onBodyIdle(): void {
    const err = errors.requestBodyTimeout(this.deps.bodyIdle.timeoutMs);
    if (this.bodyReject) {
      this.bodyReject(err);
      return;
    }
    if (this.req.headers['transfer-encoding'] === undefined) this.bytesIn = this.bodySeen;
    this.controller?.abort(err);
  }

  /** Counts a chunk of a chunked body on its way upstream (see ByteLimit). */
  onBodyBytes(n: number): void {
    this.bytesIn += n;
    this.idleSweeps = 0;
  }

  onBodyEnd(): void {
    this.deps.bodyIdle.unwatch(this);
  }

  /** From the first byte the upstream takes to the last, a streamed body is watched for stalls. */
  private watchStreamedBody(): void {
    const { req, deps } = this;
    if (req.complete || deps.bodyIdle.timeoutMs === 0) return;
    deps.bodyIdle.watch(this);
    // A chunked body is counted by ByteLimit; a declared one here, next to undici's own listener.
    if (req.headers['transfer-encoding'] !== undefined) return;
    req.on('data', (c: Buffer) => {
      this.bodySeen += c.length;
      if (this.bodySeen >= this.bytesIn) deps.bodyIdle.unwatch(this);
      else this.idleSweeps = 0;
    });
  }

  private wantsIncludeUsage(): boolean {
    const { req } = this;
    return (
      this.deps.streamIncludeUsage &&
      req.method === 'POST' &&
      INCLUDE_USAGE_PATHS.has(this.path) &&
      String(req.headers['content-type'] ?? '').includes('json')
    );
  }

  private forwardAdmitted(identity: TokenIdentity): Promise<void> {
    const { res } = this;
    const ticket = this.ticket as Ticket;
    // From here on the request counts: every path below ends in exactly one usage record.
    const finished = new Promise<void>((resolve) => {
      this.done = resolve;
    });
    res.once('close', () => {
      if (res.writableFinished) return;
      this.clientGone = true;
      this.controller?.abort(new Error('client closed the connection'));
    });
    // Dispatched once the admission is journaled (at the end of this event-loop turn, with the others).
    this.admission = this.deps.admitUsage(
      {
        id: this.id,
        tokenId: identity.tokenId,
        projectId: identity.projectId,
        method: this.req.method ?? 'GET',
        path: this.path,
        model: this.facts?.model ?? null,
        estimatedTokens: ticket.estimatedTokens,
        estimatedCostMicroUsd: ticket.estimatedCostMicroUsd,
        at: ticket.admittedAt,
      },
      () => {
        this.send(identity).catch((err: unknown) => this.failBeforeHeaders(err));
      },
    );
    return finished;
  }

  private async send(identity: TokenIdentity): Promise<void> {
    const headers = upstreamRequestHeaders(this.req.headers, identity.upstreamKey);
    const body = this.requestBody(headers);
    if (this.clientGone || this.res.destroyed) throw new Error('client closed the connection');
    this.letBodyIn();
    this.tSent = performance.now();
    (this.upstream as Upstream).pool.dispatch(
      {
        method: this.req.method as Dispatcher.HttpMethod,
        path: identity.upstreamPrefix + (this.req.url ?? '/'),
        headers,
        body,
      },
      this,
    );
  }

  /**
   * The upstream body: nothing for bodiless requests, the client's stream as is (with a byte limit
   * when its length is not declared), or, for a streamed completion that did not ask for usage,
   * the body with `stream_options.include_usage` added.
   */
  private requestBody(headers: Record<string, string | string[]>): Readable | Buffer | null {
    const { req, deps } = this;
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) return null;
    if (chunked) {
      delete headers['content-length'];
      this.streamedBody = true;
      return pipeline(req, new ByteLimit(deps.bodyLimitBytes, this), () => {});
    }
    this.bytesIn = Number(length);
    if (!this.body) {
      this.streamedBody = true;
      return req;
    }
    const rewritten = this.wantsIncludeUsage() ? withIncludeUsage(this.body) : undefined;
    if (!rewritten) return this.body;
    this.injected = true;
    headers['content-length'] = String(rewritten.length);
    return rewritten;
  }

  // undici dispatch handler

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new Error('client closed the connection'));
    else if (this.streamedBody) this.watchStreamedBody();
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.tHeaders = performance.now();
    this.status = statusCode;
    const contentType = String(headers['content-type'] ?? '');
    this.stream = contentType.startsWith('text/event-stream');
    if (this.stream) {
      const sse = new SseUsageSniffer();
      this.sse = sse;
      // With include_usage added, the filter reads every event itself and feeds the sniffer.
      if (this.injected) this.filter = new IncludeUsageFilter(sse);
      else this.sniffer = sse;
    } else if (contentType.includes('json')) this.sniffer = new JsonUsageSniffer();

    const { list, upstreamTiming } = responseHeaderList(controller.rawHeaders as Buffer[], this.filter !== undefined);
    const tSent = this.tSent as number;
    const proxyMs = tSent - this.t0 + (performance.now() - this.tHeaders);
    const timing = `proxy;dur=${proxyMs.toFixed(3)}, upstream;dur=${(this.tHeaders - tSent).toFixed(3)}`;
    list.push(REQUEST_ID_HEADER, this.id, 'server-timing', upstreamTiming ? `${upstreamTiming}, ${timing}` : timing);
    if (this.stream) list.push('x-accel-buffering', 'no');
    this.res.writeHead(statusCode, list);
    if (this.stream) this.res.flushHeaders();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.tFirstByte ??= performance.now();
    const out = this.filter ? this.filter.transform(chunk) : chunk;
    this.sniffer?.push(chunk);
    if (out.length === 0) return;
    this.bytesOut += out.length;
    if (!this.res.write(out)) {
      // The client reads slower than the upstream sends: hold the upstream until it catches up.
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.filter) {
      const rest = this.filter.flush();
      this.bytesOut += rest.length;
      this.res.end(rest);
    } else this.res.end();
    this.takeUsage();
    this.account();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.res.headersSent) {
      this.failBeforeHeaders(err);
      return;
    }
    // Mid-stream: the status is already sent, so the client sees the stream end abruptly.
    this.error = this.clientGone ? 'client_aborted' : upstreamStreamError(err);
    this.res.destroy();
    this.takeUsage();
    this.account();
  }

  /** What the sniffer (or the include_usage filter, which feeds one) read from the response. */
  private takeUsage(): void {
    if (this.filter) this.usage = this.filter.usage();
    else if (this.sniffer) this.usage = this.sniffer.finish();
  }

  /** Errors before any response byte: answer in OpenAI's error shape (unless the client is gone). */
  private failBeforeHeaders(err: unknown): void {
    if (this.clientGone) {
      this.status = 499;
      this.error = 'client_aborted';
    } else {
      const appErr = upstreamError(err);
      this.error = appErr.code;
      this.discardBody();
      this.sendError(appErr);
    }
    this.account();
  }

  /** A refusal by the proxy itself (401, 403, 408, 413, 429, 503): logged, never forwarded, not a usage record. */
  refuse(err: AppError): Promise<void> {
    this.releaseSlot();
    this.discardBody();
    this.sendError(err);
    this.deps.logger.info(
      {
        request_id: this.id,
        method: this.req.method,
        path: this.path,
        status: err.status,
        code: err.code,
        token_id: this.identity?.tokenId,
      },
      'proxy refused',
    );
    return Promise.resolve();
  }

  /**
   * A body that will not be forwarded is drained and discarded, and the connection closed after
   * the reply, so the client reads our answer instead of a reset.
   */
  private discardBody(): void {
    if (this.req.complete || this.res.headersSent) return;
    this.res.setHeader('connection', 'close');
    this.req.resume();
  }

  private sendError(err: AppError): void {
    this.status = err.status;
    if (this.res.headersSent) return;
    const body = JSON.stringify(err.toBody());
    this.res.writeHead(err.status, {
      ...err.headers(),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [REQUEST_ID_HEADER]: this.id,
      // The contract promises Server-Timing on every response, the proxy's own answers included.
      'server-timing': `proxy;dur=${(performance.now() - this.t0).toFixed(3)}`,
    });
    this.res.end(body);
    this.bytesOut = Buffer.byteLength(body);
  }

  /**
   * What the request used: as reported by the upstream, else estimated from what was actually
   * streamed (a stream cut short is billed for the text it produced, never for max_tokens), else
   * missing. Cost follows from the pricing table; unknown models get no cost, not zero.
   */
  private measuredUsage(): { u: CapturedUsage; status: 'reported' | 'estimated' | 'missing'; cost: number | null } {
    // The request's own facts fill gaps (images report no model; cut streams report no usage).
    if (!this.facts && this.body && (this.usage.model === null || this.usage.totalTokens === null)) {
      this.facts = bodyFacts(this.body, this.req.headers);
    }
    const u = { ...this.usage, model: this.usage.model ?? this.facts?.model ?? null };
    let status: 'reported' | 'estimated' | 'missing' = 'missing';
    if (u.totalTokens !== null) status = 'reported';
    else if (this.sse && this.sse.textEvents > 0) {
      status = 'estimated';
      u.promptTokens = this.facts ? Math.ceil(this.facts.bytes / 4) : null;
      u.completionTokens = this.sse.textEvents;
      u.totalTokens = (u.promptTokens ?? 0) + u.completionTokens;
    }
    const cost = status === 'missing' ? null : this.deps.pricing.cost(u.model, u);
    return { u, status, cost };
  }

  private account(): void {
    if (this.accounted) return;
    this.accounted = true;
    this.releaseSlot();
    this.deps.bodyIdle.unwatch(this);
    const identity = this.identity as TokenIdentity;
    const ms = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? null : round(b - a);
    const { u, status, cost } = this.measuredUsage();
    if (this.ticket) this.deps.limiter.settle(this.ticket, u.totalTokens ?? 0, cost ?? 0);
    const rec: UsageRecord = {
      id: this.id,
      request_id: this.id,
      token_id: identity.tokenId,
      project_id: identity.projectId,
      method: this.req.method ?? 'GET',
      path: this.path,
      model: u.model,
      status: this.status,
      is_stream: this.stream ? 1 : 0,
      prompt_tokens: u.promptTokens,
      completion_tokens: u.completionTokens,
      total_tokens: u.totalTokens,
      cached_tokens: u.cachedTokens,
      reasoning_tokens: u.reasoningTokens,
      finish_reason: u.finishReason,
      upstream_ms: ms(this.tSent, this.tHeaders),
      ttfb_ms: ms(this.t0, this.tFirstByte),
      duration_ms: round(performance.now() - this.t0),
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      error: this.error,
      cost_micro_usd: cost,
      usage_status: status,
      created_at: this.deps.now(),
    };
    this.deps.recordUsage(rec, this.admission);
    this.deps.accessLog({
      request_id: this.id,
      token_id: rec.token_id,
      project_id: rec.project_id,
      method: rec.method,
      path: rec.path,
      status: rec.status,
      model: rec.model ?? null,
      stream: this.stream,
      total_tokens: rec.total_tokens ?? null,
      duration_ms: rec.duration_ms,
      upstream_ms: rec.upstream_ms ?? null,
      error: rec.error ?? null,
    });
    this.done?.();
  }
}

/** Counts a chunked request body and fails it past the limit (declared lengths are checked up front). */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly meter: { onBodyBytes(n: number): void; onBodyEnd(): void },
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    this.meter.onBodyBytes(chunk.length);
    if (this.seen > this.limit) done(errors.bodyTooLarge(this.limit));
    else done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    this.meter.onBodyEnd();
    done();
  }
}

/** 429 for a token or project that already holds its share of an upstream's connections. */
function shareRefusal(gate: UpstreamGate): AppError {
  return errors.concurrencyLimited(
    `This token or its project already has ${gate.shareCap} requests in flight or waiting on this upstream, its share of the ${gate.slots} connections; retry when one ends.`,
  );
}

function upstreamError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; cause?: { code?: string } };
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT') return errors.upstreamTimeout('waiting for response headers');
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return errors.upstreamTimeout('connecting');
  return errors.upstreamUnavailable(e.code ?? e.cause?.code ?? 'connection failed');
}

function upstreamStreamError(err: unknown): string {
  if (err instanceof AppError) return err.code;
  return (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT' ? 'upstream_idle_timeout' : 'upstream_stream_error';
}

const round = (n: number) => Math.round(n * 1000) / 1000;
