import { performance } from 'node:perf_hooks';
import { AppError, errors } from '../errors.js';
import {
  fingerprint,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  KEYED_METHODS,
  parseIdempotencyKey,
} from '../idempotency/idempotency-key.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import { logAccess, replayedRecord } from './accounting.js';
import type { ProxyDeps } from './proxy-deps.js';
import type { ProxyRequest } from './proxy-request.js';
import { replay, storedFromBuffer, storedToBuffer } from './replay.js';
import { refuse } from './reply.js';
import { MAX_INSPECTED_BODY, type RequestBody } from './request-body.js';
import type { ResponseRecorder } from './response-recorder.js';

/**
 * Idempotency-Key on the request path (the rules are in idempotency/idempotency.ts): the key read
 * from the headers before the body, claimed once the body is read and checked (before any limit is
 * charged, so a replay is charged nothing), the stored response replayed, and the first request's
 * response stored or its key released once it ended.
 */

/** A repeat of a completed request: its stored response, to replay instead of forwarding. */
export class IdempotentReplay {
  constructor(
    readonly stored: Buffer,
    readonly model: string | null,
  ) {}
}

/**
 * The request's key, when it has one that applies (POST and PATCH, the feature on); a 400 for a
 * bad key or a body the proxy cannot read whole to fingerprint: an upload (multipart), a body of
 * undeclared length, or one over MAX_INSPECTED_BODY. Reads headers only.
 */
export function idempotencyKeyOf(pr: ProxyRequest, declared: number, deps: ProxyDeps): string | AppError | undefined {
  const raw = pr.req.headers[IDEMPOTENCY_KEY_HEADER];
  if (raw === undefined) return undefined;
  const idem = deps.idempotency;
  if (!idem?.enabled || !KEYED_METHODS.has(pr.method)) return undefined;
  const key = parseIdempotencyKey(Array.isArray(raw) ? raw.join(', ') : raw);
  if (key instanceof AppError) {
    idem.count('invalid');
    return key;
  }
  const type = String(pr.req.headers['content-type'] ?? '');
  const unreadable = type.startsWith('multipart/')
    ? 'an upload (multipart/form-data)'
    : pr.chunked
      ? 'a body of undeclared length'
      : declared > MAX_INSPECTED_BODY
        ? `a body over ${MAX_INSPECTED_BODY} bytes`
        : undefined;
  if (unreadable) {
    idem.count('unsupported');
    return errors.idempotencyKeyUnsupported(unreadable);
  }
  return key;
}

/**
 * Claims the key for this request (then resolves undefined: forward it), or answers with what the
 * key holds: the stored response, 409 or 422. Resolves null when the client left while waiting.
 */
export async function claimIdempotencyKey(
  pr: ProxyRequest,
  identity: TokenIdentity,
  key: string,
  body: RequestBody | undefined,
  deps: ProxyDeps,
): Promise<IdempotentReplay | AppError | null | undefined> {
  const idem = deps.idempotency;
  if (!idem) return undefined;
  const onClose = () => {
    pr.clientGone = true;
  };
  pr.res.once('close', onClose);
  const begun = await idem.begin(
    identity.projectId,
    key,
    fingerprint(pr.method, pr.req.url ?? pr.path, body?.bytes),
    pr.id,
    () => pr.clientGone,
  );
  pr.res.off('close', onClose);
  if (begun === null || begun instanceof AppError) return begun;
  if ('replay' in begun) return new IdempotentReplay(begun.replay, body?.facts().model ?? null);
  pr.idempotencyClaim = begun.run;
  return undefined;
}

/** The claim of a request that will not be forwarded (refused by a limit, client gone): released. */
export function releaseUnsent(pr: ProxyRequest, deps: ProxyDeps): void {
  const claim = pr.idempotencyClaim;
  if (!claim) return;
  pr.idempotencyClaim = undefined;
  deps.idempotency?.release(claim);
}

/**
 * Whether an answer is kept for repeats: one the same request would get again. A 5xx, a 429 or
 * 408 (try later) and a 409 are not: the key is released, so the client's retry runs again.
 */
export function keepsAnswer(status: number): boolean {
  if (status >= 200 && status < 300) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
}

/**
 * The first request ended: its response is stored when it was an answer to keep and reached the
 * client whole (larger than IDEMPOTENCY_MAX_RESPONSE_BYTES: stored as not kept); anything else
 * (a cut stream, a proxy error, a client gone) releases the key.
 */
export function settleIdempotency(
  pr: ProxyRequest,
  recorder: ResponseRecorder | undefined,
  status: number,
  deps: ProxyDeps,
): void {
  const claim = pr.idempotencyClaim;
  const idem = deps.idempotency;
  if (!claim || !idem) return;
  pr.idempotencyClaim = undefined;
  if (recorder?.outcome !== 'ended' || !keepsAnswer(status) || recorder.status !== status) {
    idem.release(claim);
    return;
  }
  const recorded = recorder.response();
  idem.complete(claim, recorded ? storedToBuffer({ ...recorded, storedAt: deps.now() }) : null);
}

const REPLAYED = [IDEMPOTENT_REPLAYED_HEADER, 'true'];

/**
 * Answers a repeat with the stored response, `idempotent-replayed: true` added, and records it:
 * a usage record served from `idempotent_replay`, with no tokens and no cost, charged to no limit.
 */
export function replayIdempotent(pr: ProxyRequest, r: IdempotentReplay, deps: ProxyDeps): Promise<void> {
  const stored = storedFromBuffer(r.stored);
  if (!stored) {
    // Only a store written by something else (or tampered with) holds what is not a response.
    deps.logger.error({ request_id: pr.id }, 'stored idempotent response is unreadable');
    deps.idempotency?.count('unavailable');
    return refuse(pr, errors.idempotencyUnavailable(), deps.logger, deps.hooks);
  }
  const bytesOut = replay(pr, stored, REPLAYED);
  const rec = replayedRecord(pr, {
    model: r.model,
    status: stored.status,
    stream: stored.stream,
    bytesIn: Number(pr.req.headers['content-length'] ?? 0),
    bytesOut,
    error: bytesOut === 0 && stored.body.length > 0 ? 'client_aborted' : null,
    from: 'idempotent_replay',
    tFirstByte: performance.now(),
    createdAt: deps.now(),
  });
  deps.recordUsage(rec, undefined);
  logAccess(pr, rec, deps);
  deps.hooks?.end?.(pr, rec, undefined);
  return Promise.resolve();
}
