import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { AppError, errors, fromUnexpected } from '../errors.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { UsageAdmission } from '../usage/usage-writer.js';
import { account } from './accounting.js';
import { type Admitted, admit } from './admission.js';
import { presentedToken, upstreamRequestHeaders } from './headers.js';
import { withIncludeUsage } from './include-usage.js';
import type { ProxyDeps } from './proxy-deps.js';
import { ProxyRequest } from './proxy-request.js';
import { discardBody, refuse, sendError } from './reply.js';
import { checkRequestLine } from './request-line.js';
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
        deps.logger.error({ err: (err as Error).message, request_id: id }, 'token lookup failed');
      return refuse(pr, appErr, deps.logger, deps.hooks);
    },
  );
}

async function admitThenForward(pr: ProxyRequest, identity: TokenIdentity, deps: ProxyDeps): Promise<void> {
  pr.identity = identity;
  const admitted = await admit(pr, identity, deps);
  if (admitted === null) {
    deps.hooks?.left?.(pr);
    return;
  }
  if (admitted instanceof AppError) return refuse(pr, admitted, deps.logger, deps.hooks);
  deps.hooks?.admitted?.(pr, admitted);
  return new Exchange(pr, admitted, deps).run();
}

/**
 * An admitted request from here to its usage record: journaled, sent upstream as one leg (the
 * seam for retries: `onLegFailed` comes before any byte reached the client), accounted once.
 */
class Exchange implements LegOwner {
  private readonly leg: UpstreamLeg;
  private readonly capture: UsageCapture;
  private journaled: UsageAdmission;
  private done: (() => void) | undefined;
  private accounted = false;

  constructor(
    private readonly pr: ProxyRequest,
    private readonly admitted: Admitted,
    private readonly deps: ProxyDeps,
  ) {
    this.leg = new UpstreamLeg(pr, this, deps.hooks);
    this.capture = new UsageCapture(this.leg, deps.logBodyMaxBytes);
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
        estimatedCostMicroUsd: admitted.ticket.estimatedCostMicroUsd,
        at: admitted.ticket.admittedAt,
      },
      this.send,
    );
    return finished;
  }

  private readonly onClose = (): void => {
    if (this.pr.res.writableFinished) return;
    this.pr.clientGone = true;
    this.leg.abort(new Error('client closed the connection'));
  };

  private readonly send = (): void => {
    const { pr, admitted } = this;
    if (pr.clientGone || pr.res.destroyed) {
      this.onLegFailed(this.leg, new Error('client closed the connection'));
      return;
    }
    const identity = pr.identity as TokenIdentity;
    const headers = upstreamRequestHeaders(pr.req.headers, identity.upstreamKey);
    this.deps.hooks?.upstreamRequest?.(pr, headers);
    try {
      const body = this.requestBody(headers);
      pr.letBodyIn();
      const path = identity.upstreamPrefix + (pr.req.url ?? '/');
      this.leg.dispatch(admitted.upstream, path, headers, body, this.capture);
    } catch (err) {
      this.onLegFailed(this.leg, err as Error);
    }
  };

  /**
   * The upstream body: nothing for bodiless requests, the client's stream as is (with a byte limit
   * when its length is not declared), the body as read, or, for a streamed completion that did not
   * ask for usage, the body with `stream_options.include_usage` added.
   */
  private requestBody(headers: Record<string, string | string[]>): Readable | Buffer | null {
    const { pr, admitted, deps } = this;
    const length = pr.req.headers['content-length'];
    const chunked = pr.req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) return null;
    if (!admitted.body) {
      if (chunked) delete headers['content-length'];
      // The leg starts watching it when undici starts sending; its byte count is the record's.
      const upload = new StreamedUpload(pr.req, deps.bodyWatch, deps.bodyLimitBytes, pr.t0);
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
    this.finish(leg.status, leg.bytesOut, leg.error);
  }

  /** Nothing reached the client: answer in OpenAI's error shape (unless the client is gone). */
  onLegFailed(_leg: UpstreamLeg, err: Error): void {
    if (this.pr.clientGone) {
      this.finish(499, 0, 'client_aborted');
      return;
    }
    const appErr = upstreamError(err);
    discardBody(this.pr);
    const bytes = sendError(this.pr, appErr);
    this.finish(appErr.status, bytes, appErr.code);
  }

  private finish(status: number, bytesOut: number, error: string | null): void {
    if (this.accounted) return;
    this.accounted = true;
    const { upload } = this.leg;
    upload?.stop();
    const bytesIn = upload ? upload.bytesIn : (this.admitted.body?.bytes.length ?? 0);
    const rec = account(
      this.pr,
      this.admitted,
      { leg: this.leg, capture: this.capture, bytesIn, status, bytesOut, error, journaled: this.journaled },
      this.deps,
    );
    this.deps.hooks?.end?.(this.pr, rec, this.leg.stream ? this.leg : undefined);
    this.done?.();
  }
}

function upstreamError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; cause?: { code?: string } };
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return errors.upstreamTimeout('connecting');
  return errors.upstreamUnavailable(e.code ?? e.cause?.code ?? 'connection failed');
}
