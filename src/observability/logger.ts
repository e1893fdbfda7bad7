import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors. Secrets are never logged in the first place; this is the safety net for a
 * header object or request body logged by mistake. Kept short and without deep wildcards: the
 * censor runs on every log line, including one per proxied request.
 */
const REDACT_PATHS = [
  'authorization',
  'api_key',
  'token',
  'headers.authorization',
  'headers["api-key"]',
  'req.headers.authorization',
  'req.headers["api-key"]',
  'body.api_key',
];

/** Lines are written in blocks of this size, and at least this often when traffic is light. */
const BUFFER_BYTES = 4096;
const FLUSH_INTERVAL_MS = 250;

export interface LoggerOptions {
  level: string;
  file?: string | undefined;
  /** Tests pass a stream to capture output. */
  stream?: NodeJS.WritableStream;
}

/**
 * JSON-lines logger. Output goes through an asynchronous, buffered sonic-boom destination, so a
 * slow disk or pipe never blocks a request and lines cost one write per 4 KiB, not one each.
 * Lines reach the sink within FLUSH_INTERVAL_MS; buffered lines are flushed on shutdown.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options = {
    level: opts.level,
    base: { service: 'llm-proxy' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.stream) return pino(options, opts.stream);
  if (opts.file) mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
  const dest = pino.destination({ dest: opts.file ?? 1, sync: false, mkdir: true, minLength: BUFFER_BYTES });
  setInterval(() => {
    // sonic-boom throws if flushed while a write is still in progress; the next tick retries.
    try {
      dest.flush();
    } catch {}
  }, FLUSH_INTERVAL_MS).unref();
  return pino(options, dest);
}

/** Flushes buffered log lines; call before exit. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
