import pino from 'pino';
import type { Logger } from './logger.js';

/**
 * One proxied request, as logged: the fields of its usage record that the line shows, under the
 * record's own names, so the proxy hands over the record itself (nothing copied field by field).
 * Strings from outside (path, model) are JSON-escaped.
 */
export interface AccessEntry {
  id: string;
  tokenId: string;
  projectId: string;
  method: string;
  path: string;
  status: number;
  model: string | null;
  stream: boolean;
  totalTokens: number | null;
  durationMs: number;
  upstreamMs: number | null;
  ttfbMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  costNanoUsd: number | null;
  bytesIn: number;
  bytesOut: number;
  usageStatus: string;
  error: string | null;
  /** The project key the request was sent with (a UUID, never the key); null when none was. */
  upstreamKeyId: string | null;
  /** Times the request was sent again after a failed attempt (on another key, or after a backoff). */
  retries: number;
  /** Answered from a stored response (`cache`, `idempotent_replay`); null from the upstream. */
  servedFrom: string | null;
  /** The response's service tier; null when it reported none. */
  serviceTier: string | null;
  /** JSON of the units billed besides text tokens (images, seconds, characters, tool calls…); null when none. */
  billedUnits: string | null;
  /** The upstream's id of its answer (`x-request-id`, a realtime response's id); null when none came. */
  upstreamRequestId: string | null;
}

/** Where the request came from: the peer address and the client's User-Agent (cut to 200 characters). */
export interface AccessClient {
  ip: string | undefined;
  userAgent: string | undefined;
}

/** Bodies of the exchange as logged (LOG_BODIES): already cut and masked (body-redaction.ts). */
export interface AccessBodies {
  request: string | undefined;
  response: string | undefined;
}

export interface AccessLogOptions {
  /** Fraction of successful requests logged (LOG_SAMPLE_RATE); errors always are. */
  sampleRate: number;
}

/** The ids of a request's server span (W3C trace context: 32 and 16 lowercase hex digits). */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/** `trace_id` and `span_id` for a log line, when tracing is on (nothing when it is off). */
export function traceFields(trace: TraceIds | undefined): { trace_id: string; span_id: string } | undefined {
  return trace ? { trace_id: trace.traceId, span_id: trace.spanId } : undefined;
}

/**
 * The per-request `proxy request` line, written straight to the logger's destination in the same
 * JSON-lines format as every other line. It is the one line per proxied request, so it skips
 * pino's generic serialisation and redaction (its fields are ids, numbers and escaped strings
 * by construction, never secrets): about a tenth of the CPU of a regular log call.
 */
export function createAccessLog(
  logger: Logger,
  opts: AccessLogOptions = { sampleRate: 1 },
): (e: AccessEntry, client: AccessClient, trace?: TraceIds, bodies?: AccessBodies) => void {
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
  // The logger's own fields (`service`, and `worker` under WORKERS), as pino serialised them once.
  const fields = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? '';
  const rate = opts.sampleRate;
  const clock = new LineClock();
  // Clients send the same User-Agent request after request: its JSON is kept for the next line.
  let lastUa: string | undefined;
  let lastUaJson = 'null';
  return (e, client, trace, bodies) => {
    if (!logger.isLevelEnabled('info') || !stream) return;
    // Sampling drops successes only: every failure (status >= 400, or a transport error) is logged.
    if (rate < 1 && e.status < 400 && e.error === null && Math.random() >= rate) return;
    if (client.userAgent !== lastUa) {
      lastUa = client.userAgent;
      lastUaJson = lastUa === undefined ? 'null' : JSON.stringify(lastUa.slice(0, 200));
    }
    stream.write(
      `{"level":"info","time":"${clock.iso(Date.now())}"${fields},"request_id":"${e.id}",` +
        `"token_id":"${e.tokenId}","project_id":"${e.projectId}","method":${JSON.stringify(e.method)},` +
        `"path":${JSON.stringify(e.path)},"status":${e.status},"model":${e.model === null ? 'null' : JSON.stringify(e.model)},` +
        `"stream":${e.stream},"prompt_tokens":${e.promptTokens},"completion_tokens":${e.completionTokens},` +
        `"total_tokens":${e.totalTokens},"cost_nano_usd":${e.costNanoUsd},"usage_status":"${e.usageStatus}",` +
        `"duration_ms":${e.durationMs},"upstream_ms":${e.upstreamMs},"ttfb_ms":${e.ttfbMs},"bytes_in":${e.bytesIn},` +
        `"bytes_out":${e.bytesOut},"client_ip":${client.ip === undefined ? 'null' : JSON.stringify(client.ip)},` +
        `"user_agent":${lastUaJson}` +
        `${e.upstreamKeyId === null ? '' : `,"upstream_key_id":"${e.upstreamKeyId}"`}` +
        `${e.retries === 0 ? '' : `,"retries":${e.retries}`}` +
        `${e.servedFrom === null ? '' : `,"served_from":"${e.servedFrom}"`}` +
        `${e.serviceTier === null ? '' : `,"service_tier":${JSON.stringify(e.serviceTier)}`}` +
        // Written by accounting with JSON.stringify: already a JSON object.
        `${e.billedUnits === null ? '' : `,"billed_units":${e.billedUnits}`}` +
        // The upstream's string: escaped like path and model.
        `${e.upstreamRequestId === null ? '' : `,"upstream_request_id":${JSON.stringify(e.upstreamRequestId)}`}` +
        `${e.error === null ? '' : `,"error":${JSON.stringify(e.error)}`}` +
        // Span ids are hex by construction (the SDK makes them): no escaping needed.
        `${trace ? `,"trace_id":"${trace.traceId}","span_id":"${trace.spanId}"` : ''}` +
        `${bodies === undefined ? '' : bodyMembers(bodies)},"msg":"proxy request"}\n`,
    );
  };
}

const bodyMembers = (b: AccessBodies) =>
  `${b.request === undefined ? '' : `,"request_body":${JSON.stringify(b.request)}`}` +
  `${b.response === undefined ? '' : `,"response_body":${JSON.stringify(b.response)}`}`;

/**
 * `new Date(ms).toISOString()` for the log lines, keeping the text up to the second while that
 * second lasts: a Date and its formatting cost about 1 µs for every line.
 */
export class LineClock {
  private second = Number.NaN;
  private head = '';

  iso(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.head = new Date(second * 1000).toISOString().slice(0, 20); // 2026-12-01T17:16:25.
    }
    const milli = ms - second * 1000;
    return `${this.head}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  }
}
