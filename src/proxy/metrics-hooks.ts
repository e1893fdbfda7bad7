import { performance } from 'node:perf_hooks';
import type { Metrics } from '../observability/metrics.js';
import type { ProxyHooks } from './hooks.js';

/** Endpoint families: the first path segment under /v1 (two for chat, audio and images); others are `other`. */
const FAMILIES = new Set([
  'chat.completions',
  'completions',
  'embeddings',
  'responses',
  'audio.transcriptions',
  'audio.translations',
  'audio.speech',
  'images.generations',
  'images.edits',
  'images.variations',
  'moderations',
  'models',
  'files',
  'uploads',
  'batches',
  'fine_tuning',
  'assistants',
  'threads',
  'vector_stores',
  'realtime',
  'conversations',
  'evals',
  'containers',
]);
const TWO_SEGMENTS = new Set(['chat', 'audio', 'images']);

/** `/v1/chat/completions` → `chat.completions`; a bounded set, whatever the path. */
export function endpointFamily(path: string): string {
  // The second and third segments (after `/v1`), cut without splitting the path (called twice a request).
  const start = path.indexOf('/', 1) + 1;
  if (start === 0) return 'other';
  const end = path.indexOf('/', start);
  const first = end < 0 ? path.slice(start) : path.slice(start, end);
  if (!TWO_SEGMENTS.has(first)) return FAMILIES.has(first) ? first : 'other';
  const end2 = end < 0 ? -1 : path.indexOf('/', end + 1);
  const second = end < 0 ? '' : end2 < 0 ? path.slice(end + 1) : path.slice(end + 1, end2);
  const name = `${first}.${second}`;
  return FAMILIES.has(name) ? name : 'other';
}

/** The proxy's hooks that feed the Prometheus metrics. */
export function metricsHooks(metrics: Metrics): ProxyHooks {
  return {
    refused: (_pr, err) => metrics.refused(err.code),
    upstreamHeaders: (pr, _status, stream, headers) => {
      if (stream) metrics.streamStarted();
      const remaining = headers['x-ratelimit-remaining-requests'];
      if (remaining === undefined && headers['x-ratelimit-remaining-tokens'] === undefined) return;
      const identity = pr.identity;
      if (!identity) return;
      metrics.headroom({
        upstream: identity.upstreamOrigin,
        projectId: identity.projectId,
        remainingRequests: count(remaining),
        remainingTokens: count(headers['x-ratelimit-remaining-tokens']),
        limitRequests: count(headers['x-ratelimit-limit-requests']),
        limitTokens: count(headers['x-ratelimit-limit-tokens']),
      });
    },
    admitted: (pr) => metrics.admitted(endpointFamily(pr.path), performance.now() - pr.t0),
    end: (pr, rec, stream) =>
      metrics.ended({
        family: endpointFamily(pr.path),
        method: rec.method,
        status: rec.status,
        stream: rec.stream,
        model: rec.model,
        tokenId: rec.tokenId,
        projectId: rec.projectId,
        durationMs: rec.durationMs,
        upstreamMs: rec.upstreamMs,
        ttfbMs: rec.ttfbMs,
        error: rec.error,
        promptTokens: rec.promptTokens,
        completionTokens: rec.completionTokens,
        cachedTokens: rec.cachedTokens,
        reasoningTokens: rec.reasoningTokens,
        costMicroUsd: rec.costMicroUsd,
        streamChunks: stream?.chunks,
        streamMaxGapMs: stream?.maxGapMs,
      }),
  };
}

/** A rate-limit header's number; anything else (absent, repeated, not a number) is no reading. */
function count(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
