import type { IncomingHttpHeaders } from 'node:http';
import { OpenAIHttpError } from './errors.js';

export interface MockUpstreamOptions {
  /** 0 = random. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** If set, requests must carry `Authorization: Bearer <apiKey>` or get 401 `invalid_api_key`. */
  apiKey?: string;
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
}

export interface ResolvedOptions {
  port: number;
  host: string;
  apiKey: string | undefined;
  latencyMs: number;
  chunks: number;
  ttftMs: number;
  chunkDelayMs: number;
  errorStatus: number | undefined;
  errorRate: number | undefined;
  filesDir: string | undefined;
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
}

/** Per-request override headers, so one mock serves many test cases. */
export const MOCK_HEADERS = {
  status: 'x-mock-status',
  latencyMs: 'x-mock-latency-ms',
  chunks: 'x-mock-chunks',
  ttftMs: 'x-mock-ttft-ms',
  chunkDelayMs: 'x-mock-chunk-delay-ms',
  hold: 'x-mock-hold',
} as const;

// Bounds keep a typo from hanging a test run or exhausting memory.
const MAX_DELAY_MS = 600_000;
const MAX_CHUNKS = 100_000;

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
  return {
    port: option('port', opts.port, 0, 65_535, true),
    host: opts.host ?? '127.0.0.1',
    apiKey: opts.apiKey,
    latencyMs: option('latencyMs', opts.latencyMs, 0, MAX_DELAY_MS),
    chunks: option('chunks', opts.chunks, 16, MAX_CHUNKS, true),
    ttftMs: option('ttftMs', opts.ttftMs, 0, MAX_DELAY_MS),
    chunkDelayMs: option('chunkDelayMs', opts.chunkDelayMs, 0, MAX_DELAY_MS),
    errorStatus,
    errorRate,
    filesDir: opts.filesDir,
  };
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
    hold: header(headers, MOCK_HEADERS.hold, 0, 1) === 1,
  };
}
