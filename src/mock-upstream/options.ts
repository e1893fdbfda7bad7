import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { OpenAIHttpError } from './errors.js';

export interface MockUpstreamOptions {
  /** 0 = random. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** If set, requests must carry `Authorization: Bearer <apiKey>` or get 401 `invalid_api_key`. */
  apiKey?: string;
  /**
   * How `apiKey` must arrive: `bearer` (the default) or `api-key`, an `api-key: <apiKey>` header
   * as Azure OpenAI takes it (an Authorization header is then not accepted in its place).
   */
  authStyle?: 'bearer' | 'api-key';
  /** Delay before response headers, default 0. */
  latencyMs?: number;
  /** SSE content chunks per streamed completion (= completion tokens), default 16. */
  chunks?: number;
  /** Delay before the first SSE chunk, default 0. */
  ttftMs?: number;
  /** Delay between SSE chunks, default 0. */
  chunkDelayMs?: number;
  /** If set (and errorRate is not), every /v1 request answers this status with an OpenAI-shaped error. */
  errorStatus?: number;
  /** 0..1 fraction of requests answered with errorStatus (default 500). */
  errorRate?: number;
  /** Where uploaded files are stored; default a fresh temp dir removed on close. */
  filesDir?: string;
  /** Hold every request as `x-mock-hold: 1` does, until released: one upstream of several made slow at will. */
  hold?: boolean;
  /**
   * The rate-limit headers every response carries (`x-ratelimit-remaining-requests|tokens`, and
   * `x-ratelimit-reset-requests|tokens`, given in ms and sent as OpenAI writes them: `1m30s`).
   * Unset: a quiet account's (9999 requests left, reset in 6ms).
   */
  rateLimitRemainingRequests?: number;
  rateLimitResetRequestsMs?: number;
  rateLimitRemainingTokens?: number;
  rateLimitResetTokensMs?: number;
  /**
   * Serve HTTPS with this certificate and key (PEM), speaking HTTP/2 to clients that offer it by
   * ALPN and HTTP/1.1 to the others.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Lines of a batch run at each retrieval of it (`GET /v1/batches/{id}`) while it is in progress;
   * default 1,000,000 (all of them at once).
   */
  batchLinesPerPoll?: number;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  apiKey: string | undefined;
  authStyle: 'bearer' | 'api-key';
  latencyMs: number;
  chunks: number;
  ttftMs: number;
  chunkDelayMs: number;
  errorStatus: number | undefined;
  errorRate: number | undefined;
  filesDir: string | undefined;
  hold: boolean;
  /** The rate-limit headers the options set, over the quiet defaults (http.ts). */
  rateLimitHeaders: OutgoingHttpHeaders;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
  batchLinesPerPoll: number;
}

/** What one request gets: the options, overridden by its `x-mock-*` headers. */
export interface RequestSettings {
  latencyMs: number;
  chunks: number;
  ttftMs: number;
  chunkDelayMs: number;
  /** Error status to answer instead of the real response. */
  status: number | undefined;
  /** Hold the request before answering until released (`POST /__mock/release`) or the client leaves. */
  hold: boolean;
  /** Reset the connection after this many SSE events (streams) or body bytes (other answers). */
  cutAfter: number | undefined;
  /** End a stream cleanly at the HTTP level after this many SSE events, without its last ones. */
  truncateAfter: number | undefined;
  /** Send this many SSE events, then nothing more until the client leaves (a client abort mid-stream, on cue). */
  stallAfter: number | undefined;
  /** Prompt tokens reported as cached (`cached_tokens`), at most the prompt's; default 0. */
  cachedTokens: number;
  /** Reasoning tokens reported, counted in the output tokens as OpenAI does; default 0. */
  reasoningTokens: number;
}

/** What an endpoint's answer depends on: the live request's headers, or a batch's defaults (batch-runner.ts). */
export type AnswerSettings = Pick<RequestSettings, 'chunks' | 'cachedTokens' | 'reasoningTokens'>;

/** Per-request override headers, so one mock serves many test cases. */
export const MOCK_HEADERS = {
  status: 'x-mock-status',
  latencyMs: 'x-mock-latency-ms',
  chunks: 'x-mock-chunks',
  ttftMs: 'x-mock-ttft-ms',
  chunkDelayMs: 'x-mock-chunk-delay-ms',
  hold: 'x-mock-hold',
  cutAfter: 'x-mock-cut-after',
  truncateAfter: 'x-mock-truncate-after',
  stallAfter: 'x-mock-stall-after',
  cachedTokens: 'x-mock-cached-tokens',
  reasoningTokens: 'x-mock-reasoning-tokens',
} as const;

// Bounds keep a typo from hanging a test run or exhausting memory.
const MAX_DELAY_MS = 600_000;
const MAX_CHUNKS = 100_000;
const MAX_COUNT = 1_000_000_000;
const MAX_CUT = 100_000_000;

function inRange(value: number, min: number, max: number, integer: boolean): boolean {
  return Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
}

function option(name: string, value: number | undefined, fallback: number, max: number, integer = false) {
  if (value === undefined) return fallback;
  if (!inRange(value, 0, max, integer)) throw new RangeError(`mock upstream: ${name} must be 0..${max}`);
  return value;
}

export function resolveOptions(opts: MockUpstreamOptions = {}): ResolvedOptions {
  const { errorStatus, errorRate } = opts;
  if (errorStatus !== undefined && !inRange(errorStatus, 400, 599, true)) {
    throw new RangeError('mock upstream: errorStatus must be an HTTP error status (400..599)');
  }
  if (errorRate !== undefined && !inRange(errorRate, 0, 1, false)) {
    throw new RangeError('mock upstream: errorRate must be 0..1');
  }
  if (opts.authStyle !== undefined && opts.authStyle !== 'bearer' && opts.authStyle !== 'api-key') {
    throw new RangeError('mock upstream: authStyle must be bearer or api-key');
  }
  return {
    port: option('port', opts.port, 0, 65_535, true),
    host: opts.host ?? '127.0.0.1',
    apiKey: opts.apiKey,
    authStyle: opts.authStyle ?? 'bearer',
    latencyMs: option('latencyMs', opts.latencyMs, 0, MAX_DELAY_MS),
    chunks: option('chunks', opts.chunks, 16, MAX_CHUNKS, true),
    ttftMs: option('ttftMs', opts.ttftMs, 0, MAX_DELAY_MS),
    chunkDelayMs: option('chunkDelayMs', opts.chunkDelayMs, 0, MAX_DELAY_MS),
    errorStatus,
    errorRate,
    filesDir: opts.filesDir,
    hold: opts.hold === true,
    rateLimitHeaders: rateLimitHeaders(opts),
    tls: opts.tls,
    batchLinesPerPoll: option('batchLinesPerPoll', opts.batchLinesPerPoll, 1_000_000, MAX_COUNT, true) || 1,
  };
}

function rateLimitHeaders(opts: MockUpstreamOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const kind of ['Requests', 'Tokens'] as const) {
    const remaining = opts[`rateLimitRemaining${kind}`];
    const reset = opts[`rateLimitReset${kind}Ms`];
    const name = kind.toLowerCase();
    if (remaining !== undefined) {
      out[`x-ratelimit-remaining-${name}`] = String(option(`rateLimitRemaining${kind}`, remaining, 0, MAX_COUNT, true));
    }
    if (reset !== undefined) {
      out[`x-ratelimit-reset-${name}`] = durationText(option(`rateLimitReset${kind}Ms`, reset, 0, MAX_DELAY_MS, true));
    }
  }
  return out;
}

/** Milliseconds as OpenAI writes a reset time: `250ms`, `1s`, `1m30s`, `6m0s`, `1h0m0s`. */
export function durationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** The header's value, undefined when absent; a malformed value is the test's bug, so say so loudly. */
function header(headers: IncomingHttpHeaders, name: string, min: number, max: number): number | undefined {
  const raw = headers[name];
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(String(raw)) ? Number(raw) : Number.NaN;
  if (!inRange(value, min, max, true)) {
    throw new OpenAIHttpError(400, {
      message: `Invalid ${name} header: expected an integer in ${min}..${max}.`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  }
  return value;
}

function injectedStatus(opts: ResolvedOptions): number | undefined {
  if (opts.errorRate === undefined) return opts.errorStatus;
  return Math.random() < opts.errorRate ? (opts.errorStatus ?? 500) : undefined;
}

export function requestSettings(headers: IncomingHttpHeaders, opts: ResolvedOptions): RequestSettings {
  return {
    latencyMs: header(headers, MOCK_HEADERS.latencyMs, 0, MAX_DELAY_MS) ?? opts.latencyMs,
    chunks: header(headers, MOCK_HEADERS.chunks, 0, MAX_CHUNKS) ?? opts.chunks,
    ttftMs: header(headers, MOCK_HEADERS.ttftMs, 0, MAX_DELAY_MS) ?? opts.ttftMs,
    chunkDelayMs: header(headers, MOCK_HEADERS.chunkDelayMs, 0, MAX_DELAY_MS) ?? opts.chunkDelayMs,
    status: header(headers, MOCK_HEADERS.status, 400, 599) ?? injectedStatus(opts),
    hold: (header(headers, MOCK_HEADERS.hold, 0, 1) ?? (opts.hold ? 1 : 0)) === 1,
    cutAfter: header(headers, MOCK_HEADERS.cutAfter, 0, MAX_CUT),
    truncateAfter: header(headers, MOCK_HEADERS.truncateAfter, 0, MAX_CUT),
    stallAfter: header(headers, MOCK_HEADERS.stallAfter, 0, MAX_CUT),
    cachedTokens: header(headers, MOCK_HEADERS.cachedTokens, 0, MAX_COUNT) ?? 0,
    reasoningTokens: header(headers, MOCK_HEADERS.reasoningTokens, 0, MAX_COUNT) ?? 0,
  };
}
