import { performance } from 'node:perf_hooks';
import type { AccessBodies } from '../observability/access-log.js';
import { loggedBody } from '../observability/body-redaction.js';
import type { ServedFrom } from '../store/usage-record.js';
import type { TokenIdentity } from '../tokens/authenticator.js';
import type { BilledUnits } from '../usage/pricing.js';
import { type UsageAdmission, type UsageRecord, unbilledRecord } from '../usage/usage-writer.js';
import type { Admitted } from './admission.js';
import { upstreamRequestId } from './headers.js';
import { noteJob } from './job-sightings.js';
import { estimatePromptTokens } from './prompt-estimate.js';
import type { ProxyDeps } from './proxy-deps.js';
import type { ProxyRequest } from './proxy-request.js';
import { requestUnits } from './request-units.js';
import type { UpstreamLeg } from './upstream-leg.js';
import type { UsageCapture } from './usage-capture.js';
import { type CapturedUsage, unitsOf } from './usage-extract.js';

/** What an exchange measured, for its one usage record. */
export interface Measured {
  leg: UpstreamLeg;
  capture: UsageCapture;
  /** Bytes of the request body. */
  bytesIn: number;
  /** The final status: the upstream's, the proxy's error (502, 504) or 499 (client gone first). */
  status: number;
  bytesOut: number;
  error: string | null;
  /** Where the admission was journaled (usage-writer.ts). */
  journaled: UsageAdmission;
  /** Answered from a stored response (replay.ts), not the upstream. */
  replayed?: Replayed;
}

/** A request answered from a stored response: no upstream use, so no tokens and no cost. */
export interface Replayed {
  from: ServedFrom;
  stream: boolean;
  /** performance.now() when the body was written. */
  tFirstByte: number;
}

/**
 * Accounting, once per admitted request: the one usage record, built from what was measured;
 * the limiter settled with the actual use (and its slots released); the record handed to the
 * writer; the access-log line derived from it.
 */
export function account(pr: ProxyRequest, admitted: Admitted, m: Measured, deps: ProxyDeps): UsageRecord {
  admitted.releaseSlot();
  const { replayed } = m;
  const rec = replayed
    ? replayedRecord(pr, {
        model: (admitted.facts ?? admitted.body?.facts())?.model ?? null,
        status: m.status,
        stream: replayed.stream,
        bytesIn: m.bytesIn,
        bytesOut: m.bytesOut,
        error: m.error,
        from: replayed.from,
        tFirstByte: replayed.tFirstByte,
        createdAt: deps.now(),
      })
    : measuredRecord(pr, admitted, m, deps);
  deps.limiter.settle(admitted.ticket, rec.totalTokens ?? 0, rec.costNanoUsd ?? 0);
  deps.recordUsage(rec, m.journaled);
  logAccess(pr, rec, deps, deps.logBodyMaxBytes > 0 ? loggedBodies(pr, admitted, m, deps.logBodyMaxBytes) : undefined);
  return rec;
}

/** The record of an answer from the upstream: what was measured, priced. */
function measuredRecord(pr: ProxyRequest, admitted: Admitted, m: Measured, deps: ProxyDeps): UsageRecord {
  const { u, status, cost } = measuredUsage(pr, admitted, m.capture, m.status, deps);
  // A batch or response object in the answer (never for chat): its usage may be the follower's to record.
  if (u.job !== null && noteJob(pr, u, m.status, deps.jobs))
    return withoutUsage(measuredRecordOf(pr, u, status, cost, m, deps));
  return measuredRecordOf(pr, u, status, cost, m, deps);
}

/** A retrieval of a response, or a background response not finished: its use is the job's record, not this one's. */
function withoutUsage(rec: UsageRecord): UsageRecord {
  rec.promptTokens = 0;
  rec.completionTokens = 0;
  rec.totalTokens = 0;
  rec.cachedTokens = 0;
  rec.reasoningTokens = 0;
  rec.costNanoUsd = 0;
  rec.usageStatus = 'reported';
  return rec;
}

function measuredRecordOf(
  pr: ProxyRequest,
  u: CapturedUsage,
  status: 'reported' | 'estimated' | 'missing',
  cost: number | null,
  m: Measured,
  deps: ProxyDeps,
): UsageRecord {
  const identity = pr.identity as TokenIdentity;
  const { leg } = m;
  return {
    id: pr.id,
    tokenId: identity.tokenId,
    projectId: identity.projectId,
    method: pr.method,
    path: pr.path,
    model: u.model,
    status: m.status,
    stream: leg.stream,
    promptTokens: u.promptTokens,
    completionTokens: u.completionTokens,
    totalTokens: u.totalTokens,
    cachedTokens: u.cachedTokens,
    reasoningTokens: u.reasoningTokens,
    finishReason: u.finishReason,
    upstreamMs: leg.tHeaders === undefined ? null : round(leg.tHeaders - leg.tSent),
    ttfbMs: leg.tFirstByte === undefined ? null : round(leg.tFirstByte - pr.t0),
    durationMs: round(performance.now() - pr.t0),
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    error: m.error,
    costNanoUsd: cost,
    usageStatus: status,
    createdAt: deps.now(),
    upstreamKeyId: pr.upstreamKey?.id ?? null,
    retries: pr.retries,
    servedFrom: null,
    serviceTier: u.serviceTier,
    billedUnits: u.units === null ? null : JSON.stringify(u.units),
    upstreamRequestId: upstreamRequestId(leg.headers),
  };
}

/** What a record of a stored answer needs beyond the request. */
export interface ReplayedAnswer {
  model: string | null;
  status: number;
  stream: boolean;
  bytesIn: number;
  bytesOut: number;
  error: string | null;
  from: ServedFrom;
  /** performance.now() when the body was written. */
  tFirstByte: number;
  createdAt: number;
}

/**
 * The record of an answer from a stored response (the response cache, an Idempotency-Key's
 * first request): nothing was sent upstream, so no key, no tokens and no cost.
 */
export function replayedRecord(pr: ProxyRequest, a: ReplayedAnswer): UsageRecord {
  const identity = pr.identity as TokenIdentity;
  return {
    ...unbilledRecord({
      id: pr.id,
      tokenId: identity.tokenId,
      projectId: identity.projectId,
      method: pr.method,
      path: pr.path,
      model: a.model,
      status: a.status,
      stream: a.stream,
      durationMs: round(performance.now() - pr.t0),
      createdAt: a.createdAt,
    }),
    ttfbMs: round(a.tFirstByte - pr.t0),
    bytesIn: a.bytesIn,
    bytesOut: a.bytesOut,
    error: a.error,
    servedFrom: a.from,
    serviceTier: null,
    billedUnits: null,
  };
}

/** The request's access-log line, from its record. */
export function logAccess(pr: ProxyRequest, rec: UsageRecord, deps: ProxyDeps, bodies?: AccessBodies): void {
  const ua = pr.req.headers['user-agent'];
  deps.accessLog(rec, { ip: pr.clientIp, userAgent: typeof ua === 'string' ? ua : undefined }, pr.trace, bodies);
}

/** LOG_BODIES: both bodies cut and masked; a request body that streamed through unread is shown by size. */
function loggedBodies(pr: ProxyRequest, admitted: Admitted, m: Measured, max: number): AccessBodies {
  const type = String(pr.req.headers['content-type'] ?? '');
  const request = admitted.body
    ? loggedBody(admitted.body.bytes, type, max)
    : m.bytesIn === 0
      ? undefined
      : `[${m.bytesIn} bytes of ${type || 'unknown type'}, streamed]`;
  const head = m.capture.responseHead();
  const response = m.bytesOut === 0 ? undefined : loggedBody(head, m.capture.responseType, max);
  return { request, response };
}

/**
 * What the request used: as reported by the upstream, else estimated from what was actually
 * streamed (a stream cut short is billed for the text it produced, never for max_tokens), else
 * missing. Cost follows from the pricing table; unknown models get no cost, not zero.
 */
function measuredUsage(
  pr: ProxyRequest,
  admitted: Admitted,
  capture: UsageCapture,
  httpStatus: number,
  deps: ProxyDeps,
): { u: CapturedUsage; status: 'reported' | 'estimated' | 'missing'; cost: number | null } {
  const u = capture.usage();
  // The request's own facts fill gaps (images report no model; cut streams report no usage).
  const facts =
    admitted.facts ??
    (u.model === null || u.totalTokens === null || u.units !== null ? admitted.body?.facts() : undefined);
  if (u.model === null) u.model = facts?.model ?? null;
  let status: 'reported' | 'estimated' | 'missing' = 'missing';
  // Images, speech and transcriptions: what the request asked for fills what the answer does not say.
  const asked = facts && httpStatus >= 200 && httpStatus < 300 ? requestUnits(pr.family, facts) : undefined;
  if (asked) status = completeUnits(u, asked);
  if (u.totalTokens !== null || (status === 'missing' && (u.units?.images || u.units?.seconds))) status = 'reported';
  else if (status === 'missing' && capture.textEvents > 0) {
    status = 'estimated';
    const json = admitted.body?.object();
    u.promptTokens = json ? estimatePromptTokens(pr.path, json) : null;
    u.completionTokens = capture.textEvents;
    u.totalTokens = (u.promptTokens ?? 0) + u.completionTokens;
  }
  const cost = status === 'missing' ? null : deps.pricing.cost(u.model, u);
  return { u, status, cost };
}

/**
 * Adds to the units read from the answer what only the request says: speech's characters, an
 * image's size and quality (DALL·E answers do not repeat them), the images asked for when the
 * answer was not counted, and a transcription's seconds when its format reports none (`text`,
 * `srt`, `vtt`): then the upload's longest possible duration, an estimate. Returns how the units
 * were obtained ('missing' when none bill this request).
 */
function completeUnits(u: CapturedUsage, asked: BilledUnits): 'reported' | 'estimated' | 'missing' {
  if (asked.characters !== undefined) {
    u.units = { ...u.units, characters: asked.characters };
    return 'reported';
  }
  if (asked.images !== undefined) {
    const units = unitsOf(u);
    units.images ??= asked.images;
    if (asked.size !== undefined) units.size ??= asked.size;
    if (asked.quality !== undefined) units.quality ??= asked.quality;
    return 'reported';
  }
  if (asked.seconds !== undefined && u.totalTokens === null) {
    if (u.units?.seconds !== undefined) return 'reported';
    u.units = { ...u.units, seconds: asked.seconds };
    return 'estimated';
  }
  return 'missing';
}

const round = (n: number) => Math.round(n * 1000) / 1000;
