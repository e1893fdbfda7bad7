import { performance } from 'node:perf_hooks';
import type { Metrics } from '../observability/metrics.js';
import type { ProxyHooks } from './hooks.js';

/** The proxy's hooks that feed the Prometheus metrics. */
export function metricsHooks(metrics: Metrics): ProxyHooks {
  return {
    refused: (_pr, err) => metrics.refused(err.code),
    upgradeRefused: (_u, err) => metrics.refused(err.code),
    upstreamHeaders: (pr, _status, stream, headers) => {
      if (stream) metrics.streamStarted();
      const remaining = headers['x-ratelimit-remaining-requests'];
      if (remaining === undefined && headers['x-ratelimit-remaining-tokens'] === undefined) return;
      const identity = pr.identity;
      if (!identity || !pr.upstreamKey) return;
      metrics.headroom({
        upstream: pr.upstreamKey.origin,
        projectId: identity.projectId,
        remainingRequests: count(remaining),
        remainingTokens: count(headers['x-ratelimit-remaining-tokens']),
        limitRequests: count(headers['x-ratelimit-limit-requests']),
        limitTokens: count(headers['x-ratelimit-limit-tokens']),
      });
    },
    admitted: (pr) => metrics.admitted(pr.family, performance.now() - pr.t0),
    end: (pr, rec, stream) => metrics.ended(rec, pr.family, stream),
    // A Realtime response's tokens and cost; sessions are counted by the realtime metrics.
    realtime: (s, rec) => {
      if (s.kind === 'response') metrics.realtimeResponse(rec);
    },
  };
}

/** A rate-limit header's number; anything else (absent, repeated, not a number) is no reading. */
function count(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
